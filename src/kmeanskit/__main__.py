import sys

from kmeanskit.cli import main

sys.exit(main())
