"""`python -m kfinstall` runs the same CLI as the `kfinstall` console script."""

from kfinstall.cli import main

if __name__ == "__main__":
    main()
