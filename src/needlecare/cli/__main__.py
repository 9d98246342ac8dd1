"""``python -m needlecare.cli``: the same as the ``needlecare`` console script."""

from needlecare.cli.main import main

main()
