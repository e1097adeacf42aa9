"""BG/NBD on the CDNOW sample: our fit vs lifetimes' BetaGeoFitter (issue 4: ours ≤ 0.5 s).

    .venv/bin/python benchmarks/clv_cdnow.py [--repeat 20]

Data: CDNOW_sample.txt from the `lifetimes` distribution (2,357 customers,
39-week calibration ending 1997-09-30, unit weeks, same-day orders merged).
Prints the fitted parameters of both, the published values, the cold (first
call in the process) and warm (median of --repeat) fit times, and the ratio.
No Django needed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from samphan.analytics import clv
from samphan.analytics.summary import cdnow_transactions, day_number, summarise_transactions

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4}


def timed(fn, repeat: int) -> tuple[float, float, object]:
    start = time.perf_counter()
    result = fn()
    cold = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return cold, statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    t = cdnow_transactions()
    s = summarise_transactions(t.customer, t.day, t.value, calibration_end=day_number(date(1997, 9, 30)),
                               unit_days=7)
    print(f"CDNOW sample: {len(s.x):,} customers, {int((s.x > 0).sum()):,} repeat buyers, "
          f"{int(s.x.sum()):,} repeat purchases in 39 weeks")

    ours_cold, ours, fit = timed(lambda: clv.bgnbd_fit(s.x, s.t_x, s.T), args.repeat)
    print(f"samphan   r={fit.r:.4f} alpha={fit.alpha:.4f} a={fit.a:.4f} b={fit.b:.4f} "
          f"LL={fit.log_likelihood:.2f}  cold {ours_cold:.3f} s  warm {ours:.4f} s (median of {args.repeat})")
    print("published r={r:.3f}  alpha={alpha:.3f}  a={a:.3f}  b={b:.3f}  LL={log_likelihood}".format(**PUBLISHED))
    gg_cold, gg, g = timed(lambda: clv.gamma_gamma_fit(s.x, s.m), args.repeat)
    print(f"samphan Gamma-Gamma p={g.p:.4f} q={g.q:.4f} gamma={g.gamma:.4f} on {g.customers} repeat buyers  "
          f"cold {gg_cold:.3f} s  warm {gg:.4f} s   (published 6.25 / 3.74 / 15.44)")

    try:
        import pandas as pd
        from lifetimes import BetaGeoFitter
    except ImportError:
        print("lifetimes is not installed: no comparison (pip install lifetimes)")
        return
    frame = pd.DataFrame({"frequency": s.x, "recency": s.t_x, "T": s.T})

    def theirs_fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"])

    repeat = max(3, args.repeat // 4)
    theirs_cold, theirs, bgf = timed(theirs_fit, repeat)
    p = bgf.params_
    print(f"lifetimes r={p['r']:.4f} alpha={p['alpha']:.4f} a={p['a']:.4f} b={p['b']:.4f} "
          f"LL={clv.bgnbd_log_likelihood((p['r'], p['alpha'], p['a'], p['b']), s.x, s.t_x, s.T):.2f}  "
          f"cold {theirs_cold:.3f} s  "
          f"warm {theirs:.4f} s (median of {repeat})")
    print(f"ratio lifetimes / samphan: warm {theirs / ours:.1f}x, cold {theirs_cold / ours_cold:.1f}x")
    print(f"target ≤ 0.5 s: {'met' if max(ours, ours_cold) <= 0.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
