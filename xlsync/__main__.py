from xlsync.cli import main

main()
