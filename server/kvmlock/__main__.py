from kvmlock.cli import main

# Guarded: the language server's indexing workers are spawned, and spawn imports the main
# module again in each of them.
if __name__ == "__main__":
    raise SystemExit(main())
