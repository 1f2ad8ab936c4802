# The workflow's software stack, exactly requirements.txt (or requirements-gpu.txt), in one image:
# for machines the pins do not install on natively (Intel macOS, Python 3.14, ...) and for
# clusters (Snakemake's `--sdm apptainer`; apptainer.def builds the same image without Docker).
# The workflow itself (Snakefile, rules, scripts, dlwf) is NOT in the image: run it from your
# checkout, which you mount as the working directory. README, "Containers".
#
#   docker build -t dlwf .                                                     # CPU
#   docker build -t dlwf-gpu --build-arg REQUIREMENTS=requirements-gpu.txt .   # GPU (linux/amd64)
#   docker run --rm -v "$PWD":/work dlwf snakemake --cores all                 # in a checkout
#   docker run --rm --gpus all -v "$PWD":/work dlwf-gpu snakemake --cores all
#
# tests/unit/test_container.py checks that this recipe and apptainer.def install the same files
# from the same base image; `make lint` runs hadolint on both.
FROM python:3.12-slim-bookworm

ARG REQUIREMENTS=requirements.txt

LABEL org.opencontainers.image.title="dlwf: Introduction to Deep Learning as a Snakemake workflow" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="MIT"

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TF_CPP_MIN_LOG_LEVEL=3 \
    MPLCONFIGDIR=/tmp/matplotlib

# git: metrics.json records the commit of the mounted checkout (owned by another user, hence safe.directory)
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*'

COPY requirements.txt requirements-gpu.txt /opt/dlwf/
RUN pip install --no-cache-dir -r "/opt/dlwf/${REQUIREMENTS}"

WORKDIR /work
CMD ["snakemake", "--cores", "all"]
