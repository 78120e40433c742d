"""`python -m accelsim` runs the command line."""

from accelsim.cli import main

main()
