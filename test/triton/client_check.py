"""Calls the inference service with the reference Triton client (tritonclient[http]) the way a
user would, in each combination of JSON and binary tensor data, and prints what it got back as one
JSON object on stdout; test/integration/inference.triton-client.test.ts compares it with
onnxruntime-node's own answer.

stdin: {"url": "127.0.0.1:port", "model": "occupancy", "rows": [[...5 features...], ...]}
"""

import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def outputs_of(result, names):
    return {name: result.as_numpy(name).tolist() for name in names}


def binary_flags(result):
    """Which outputs came back as binary data (binary_data_size) rather than JSON data."""
    return {o["name"]: "binary_data_size" in (o.get("parameters") or {}) for o in result.get_response()["outputs"]}


def main():
    spec = json.load(sys.stdin)
    rows = np.asarray(spec["rows"], dtype=np.float32)
    model = spec["model"]
    client = httpclient.InferenceServerClient(url=spec["url"], connection_timeout=30.0, network_timeout=60.0)
    report = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(model),
        "server": client.get_server_metadata(),
        "metadata": client.get_model_metadata(model),
        "cases": {},
    }
    names = [o["name"] for o in report["metadata"]["outputs"]]

    def infer(case, binary_in, binary_out, version="", compression=None):
        inp = httpclient.InferInput("input", list(rows.shape), "FP32")
        inp.set_data_from_numpy(rows, binary_data=binary_in)
        # binary_out None: no outputs named, so the client asks for every output with
        # binary_data_output (its default); True/False: each output named with binary_data.
        outputs = None if binary_out is None else [httpclient.InferRequestedOutput(n, binary_data=binary_out) for n in names]
        result = client.infer(
            model,
            [inp],
            model_version=version,
            outputs=outputs,
            request_id=case,
            request_compression_algorithm=compression,
        )
        response = result.get_response()
        report["cases"][case] = {
            "id": response.get("id"),
            "model_version": response.get("model_version"),
            "binary": binary_flags(result),
            "outputs": outputs_of(result, names),
        }

    infer("json-in-json-out", binary_in=False, binary_out=False)
    infer("binary-in-binary-out", binary_in=True, binary_out=True)
    infer("json-in-binary-out", binary_in=False, binary_out=True)
    infer("binary-in-json-out", binary_in=True, binary_out=False)
    infer("binary-in-default-out", binary_in=True, binary_out=None, version="1")
    infer("gzip-binary-in-binary-out", binary_in=True, binary_out=True, compression="gzip")

    # A wrong shape: the client raises with the server's error message.
    bad = httpclient.InferInput("input", [1, 4], "FP32")
    bad.set_data_from_numpy(np.zeros((1, 4), dtype=np.float32), binary_data=True)
    try:
        client.infer(model, [bad])
        report["bad_shape"] = None
    except InferenceServerException as err:
        report["bad_shape"] = {"status": err.status(), "message": err.message()}
    client.close()
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
