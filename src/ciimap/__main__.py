from ciimap.cli import main

main()
