from enabley.cli import main

main()
