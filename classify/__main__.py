import sys

from classify.cli import main

sys.exit(main())
