from arxiv_digest.cli import main

main()
