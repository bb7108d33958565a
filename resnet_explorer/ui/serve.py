"""The app's launcher: ``python -m resnet_explorer.ui.serve [streamlit run options]``.

The same as ``streamlit run app.py`` (options such as ``--server.port 8600`` pass through),
except that the server warms what the first page needs while it starts (`ui.warm`): a plain
``streamlit run`` imports PyTorch and traces the first design only when the first browser
connects. `scripts/run-app.sh` starts the app this way.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app.py"


def main(argv: list[str] | None = None) -> int:
    """Start the warm-up thread, then Streamlit's server on ``app.py`` (blocks until it ends)."""
    # Streamlit first, in this thread: the warm-up thread imports `streamlit.runtime`, and the
    # two threads importing streamlit at once deadlocked (or built its singletons twice, and
    # the server died at start: "DeltaGeneratorSingleton instance already exists!").
    from streamlit.web import cli

    from resnet_explorer.ui import warm  # light: the warm-up thread does the heavy imports

    warm.at_server_start()

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
