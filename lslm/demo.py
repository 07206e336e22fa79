"""`python -m lslm.demo` (the Makefile's `make demo`): the demo recipe, `lslm.recipes.demo`."""
from lslm.recipes.demo import main

if __name__ == "__main__":
    main()
