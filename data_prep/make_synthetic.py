"""Write the synthetic signed corpus: python data_prep/make_synthetic.py --out DIR [--size tiny|small|default]."""
import sys

from lslm.recipes.synthetic import main

if __name__ == "__main__":
    sys.exit(main())
