"""The lesson's published results: the one place that holds them, each with where it is printed.

Source: the Carpentries lesson "Introduction to Deep Learning" (2024-11 version; its text is
``../shared/lesson/deep-learning-intro.txt`` on this project's machines, line numbers below refer
to it). The lesson prints few numbers; only those measured the way this workflow measures an
experiment's primary metric are kept (test-set RMSE for the weather models, accuracy on the
validation images, which are the dataset's test files, for Dollar Street). Not kept: the
penguins episode prints no accuracy; "the validation RMSE seems to end up around 3.2" (dense_10_5,
line 1109) is on the validation set, not the test set; "our last model's validation accuracy of
~30%" (line 1927) names no model.

A number is shown next to an experiment only when the experiment has the lesson's id and its
dataset's files come from the lesson's sources (the URLs below, compared without their query
string): on other data (a mirror copy of the same files counts as the same data) the lesson's
number says nothing about the run.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

LESSON = "Introduction to Deep Learning (The Carpentries, 2024-11)"

# The lesson's data, by dataset: file name -> the URL the lesson downloads it from.
WEATHER_LIGHT = {
    "weather_prediction_dataset_light.csv": "https://zenodo.org/records/5071376/files/weather_prediction_dataset_light.csv",
}
DOLLAR_STREET_10 = {
    name: f"https://zenodo.org/records/10970014/files/{name}"
    for name in ("train_images.npy", "train_labels.npy", "test_images.npy", "test_labels.npy")
}

# experiment id -> the lesson's number for it
RESULTS = {
    "dense_100_50": {
        "data": WEATHER_LIGHT,
        "metric": "rmse",
        "value": 4.0778,
        "where": "episode 3, step 8 'Measure performance': 'Neural network: 4.077792167663574' "
        "(baseline 3.877), line 1039",
    },
    "basel_9y": {
        "data": WEATHER_LIGHT,
        "metric": "rmse",
        "value": 3.3762,
        "where": "episode 3, exercise 'Simplify the model and add data': 'Test RMSE: 3.3761725425720215', line 1242",
    },
    "all_years": {
        "data": WEATHER_LIGHT,
        "metric": "rmse",
        "value": 3.23,
        "where": "episode 3, optional exercise on all years and features: 'an RMSE on the test set of 3.23', line 1258",
    },
    "cnn_pool": {
        "data": DOLLAR_STREET_10,
        "metric": "accuracy",
        "value": 0.28,
        "where": "episode 4, 'Comparison with a network with only dense layers': 'the CNN reached about 28% "
        "accuracy', line 1587",
    },
    "dense_only": {
        "data": DOLLAR_STREET_10,
        "metric": "accuracy",
        "value": 0.18,
        "where": "episode 4, 'Comparison with a network with only dense layers': 'the validation accuracy only "
        "reaches about 18%', line 1587",
    },
    "transfer": {
        "data": DOLLAR_STREET_10,
        "metric": "accuracy",
        "value": 0.64,
        "where": "episode 5, '3. Inspect the results': 'The final validation accuracy reaches 64%', line 2059",
    },
}


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def reference(experiment: str, files: list[dict]) -> dict | None:
    """The lesson's number for ``experiment`` run on the dataset ``files`` ({'name', 'url'} each),
    as {'metric', 'value', 'where'}; None when the lesson has none or the data are not the lesson's."""
    result = RESULTS.get(experiment)
    if result is None:
        return None
    used = {f["name"]: _without_query(f["url"]) for f in files}
    if used != result["data"]:
        return None
    return {"metric": result["metric"], "value": result["value"], "where": f"{LESSON}, {result['where']}"}
