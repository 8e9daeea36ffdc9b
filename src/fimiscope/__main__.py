from fimiscope.cli import main

main()
