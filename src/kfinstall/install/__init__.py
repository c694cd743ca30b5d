"""`kfinstall up`: the install's steps and what runs them (apply, wait, retry, images)."""
