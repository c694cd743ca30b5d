"""Shared fixtures. Each area of the test harness registers its fixtures module here."""

pytest_plugins = [
    "tests.home_guard",  # no test writes into the user's home, cache or log directory
    "tests.double.fixtures",
    "tests.fakes.fixtures",
    "tests.releases",
    "tests.registry_fixtures",
    "tests.secret_release",
    "tests.heavy_release",  # a release whose standard profile outgrows a small minikube
    "tests.scheduling",  # under -n 2 --dist loadfile, the costliest files start first
    "tests.leaks",  # the run fails when a process a test started outlives it
]
