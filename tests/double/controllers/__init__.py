"""The double's simulated controllers, one module per controller, run in order by `manager.Controllers`."""
