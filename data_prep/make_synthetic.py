"""Write the synthetic signed corpus: python data_prep/make_synthetic.py --out DIR [--size tiny|small|default]."""
from lslm.data.synthetic.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
