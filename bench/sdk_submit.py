"""What a user of the official SDK runs: ``client.submit(cid, files=[...])``.

``python -m bench.sdk_submit URL CID DIR NAME`` (token in ``MLARENA_API_KEY``) submits every file
under DIR (helpers first, ``agent.py`` last) with whichever ``mlarena`` is first on the path:
0.2.0 (v0: ``submit(cid, files=…, agent_name=…)``) creates an agent, uploads each file in its own
request (a new connection each time: the SDK uses ``requests.request``) and deploys; 4.6.0 (v4.6:
``submit(cid, files=…, submission_name=…)``) creates a submission, uploads each file the same
way, reads the submission once (``is_deployable``) and deploys. Prints one JSON line: seconds
inside Python, files sent, whether the deploy was accepted, and the SDK's version.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    t0 = time.perf_counter()
    import mlarena
    import mlarena.exceptions

    url, cid, folder, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    files = []
    for d, dirs, fs in os.walk(folder):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        files += [os.path.join(d, f) for f in sorted(fs) if f != "mlarena.yaml"]
    files.sort(key=lambda p: os.path.basename(p) == "agent.py")
    client = mlarena.connect(os.environ["MLARENA_API_KEY"], base_url=url)
    version = str(getattr(mlarena, "__version__", "?"))
    naming = "agent_name" if version.startswith("0.") else "submission_name"
    deploy = "accepted"
    try:
        client.submit(cid, files=files, **{naming: name})
    except mlarena.exceptions.SubmissionError as exc:  # e.g. a deploy refused after every upload
        deploy = f"refused: {exc}"
    doc = {
        "seconds": time.perf_counter() - t0,
        "files": len(files),
        "deploy": deploy,
        "sdk": version,
    }
    print(json.dumps(doc), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
