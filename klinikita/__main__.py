import sys

from klinikita.cli import main

sys.exit(main())
