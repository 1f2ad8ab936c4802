#!/usr/bin/env bash
# Create a virtual environment that sees every package of an existing one and adds the SLURM
# executor plugin (requirements-slurm.txt), so the plugin stays out of the environment used for
# local runs and tests (it slows every snakemake call down where SLURM's tools are installed).
#   .ci/slurm/plugin-venv.sh DEST BASE_PYTHON     e.g.  .ci/slurm/plugin-venv.sh .venv-slurm .venv/bin/python
# Run snakemake from it as  DEST/bin/python -m snakemake --profile profiles/slurm ...
# Idempotent: does nothing when DEST is newer than requirements-slurm.txt and layered on BASE_PYTHON's env.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 DEST BASE_PYTHON" >&2; exit 2; }
DEST=$1
BASE_PYTHON=$2
REQUIREMENTS=$(cd "$(dirname "$0")/../.." && pwd)/requirements-slurm.txt

# The new venv's interpreter is the base venv's own interpreter; its site-packages come second
# on sys.path through a .pth file, so pip installs only what the base lacks.
BASE_SITE=$("$BASE_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ -f "$DEST/.installed" ] && [ "$DEST/.installed" -nt "$REQUIREMENTS" ] \
    && [ "$(cat "$DEST/.installed")" = "$BASE_SITE" ]; then
    exit 0
fi
"$BASE_PYTHON" -m venv --clear "$DEST"
DEST_SITE=$("$DEST/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$BASE_SITE" >"$DEST_SITE/zz_base_venv.pth"
"$DEST/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
echo "$BASE_SITE" >"$DEST/.installed"
echo "SLURM plugin environment ready: $DEST/bin/python -m snakemake --executor slurm ..."
