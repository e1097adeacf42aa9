from samphan.cli import main

main()
