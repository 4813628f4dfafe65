from souk.cli import main

main()
