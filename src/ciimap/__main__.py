from ciimap.cli import main

if __name__ == "__main__":  # guarded: multiprocessing (spawn) re-imports the main module
    main()
