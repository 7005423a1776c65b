"""Design-space sweeps: a grid of generate + simulate + synth jobs on a Dask cluster, one table of results.

A sweep is a JSON file::

    {"base": {"layer": "blocks.0.expand", "size": "16x16"},
     "grid": {"pe": [4, 8], "simd": [4, 8]},
     "simulate": true, "frames": 3, "synth": true, "seeds": [1, 2, 3]}

``base`` and every point of ``grid`` (the product of its lists) are the
options of ``wccgen generate`` for a WCC layer (:class:`GenerateOptions`
fields). Each point is a job: generate the layer, simulate it on photograph
activations (``simulate``, ``frames``), and place and route it with each of
``seeds`` (``synth``). Jobs run on a Dask ``LocalCluster`` started here, or
on the scheduler at ``--scheduler``; their workers need wccgen installed.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
import traceback
from pathlib import Path

from .options import GenerateOptions, parse_size, read_json_object

__all__ = ["SWEEP_FIELDS", "SweepError", "load_sweep", "run_sweep", "sweep_jobs"]

#: Fields of a sweep file, with what each holds.
SWEEP_FIELDS = {
    "base": "generate options every job shares (an object)",
    "grid": "generate options to vary: each a non-empty list of values (an object)",
    "simulate": "simulate each job's layer (default true)",
    "frames": "frames simulated per job (default 3)",
    "synth": "place and route each job's layer (default true)",
    "seeds": "placer seeds per job (default [1])",
}
#: Generate options a sweep may not set: where each job writes is the sweep's, and a sweep builds WCC layers.
_NOT_SWEPT = ("out", "network", "codec", "config")
#: A job's record of a finished run, in its directory: a re-run skips a job that has one.
RESULT = "result.json"


class SweepError(ValueError):
    """A sweep file that cannot be run, or a scheduler that cannot be reached (the message says which)."""


def _check_options(values, where):
    if not isinstance(values, dict):
        raise SweepError(f"{where}: must be an object of generate options")
    known = {f.name for f in dataclasses.fields(GenerateOptions)} - set(_NOT_SWEPT)
    unknown = sorted(set(values) - known)
    if unknown:
        raise SweepError(f"{where}: unknown or not sweepable option(s) {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(sorted(known))}")


def load_sweep(path):
    """The sweep in the JSON file ``path``, checked: a dict of :data:`SWEEP_FIELDS` with defaults filled in."""
    try:
        sweep = read_json_object(path, ", ".join(SWEEP_FIELDS))
    except ValueError as error:
        raise SweepError(str(error)) from None
    unknown = sorted(set(sweep) - set(SWEEP_FIELDS))
    if unknown:
        raise SweepError(f"config: {path}: unknown field(s) {', '.join(map(repr, unknown))}; known: "
                         f"{', '.join(SWEEP_FIELDS)}")
    sweep = {"base": {}, "grid": {}, "simulate": True, "frames": 3, "synth": True, "seeds": [1], **sweep}
    _check_options(sweep["base"], "base")
    _check_options(sweep["grid"], "grid")
    if not sweep["grid"]:
        raise SweepError("grid: give at least one option to vary, e.g. {\"pe\": [4, 8]}")
    for name, values in sweep["grid"].items():
        if not isinstance(values, list) or not values:
            raise SweepError(f"grid.{name}: must be a non-empty list of values, got {values!r}")
    for name in ("simulate", "synth"):
        if not isinstance(sweep[name], bool):
            raise SweepError(f"{name}: must be true or false, got {sweep[name]!r}")
    if not isinstance(sweep["frames"], int) or isinstance(sweep["frames"], bool) or not 1 <= sweep["frames"] <= 1000:
        raise SweepError(f"frames: must be an integer in [1, 1000], got {sweep['frames']!r}")
    seeds = sweep["seeds"]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool)
                                                           and s >= 1 for s in seeds):
        raise SweepError(f"seeds: must be a non-empty list of positive integers, got {seeds!r}")
    if not sweep["simulate"] and not sweep["synth"]:
        raise SweepError("simulate, synth: a job must do one of them (both are false)")
    return sweep


def _value_name(value):
    if isinstance(value, (list, tuple)):
        return "x".join(map(str, value))
    return str(value).replace("/", "_").replace(" ", "_")


def sweep_jobs(sweep, workdir):
    """``[(name, options)]`` of every point of the grid: the options checked as ``generate`` checks them (a
    point that cannot be built is still a job, which fails with the message)."""
    names, lists = list(sweep["grid"]), list(sweep["grid"].values())
    jobs = []
    for point in itertools.product(*lists):
        chosen = dict(zip(names, point))
        name = "_".join(f"{key}{_value_name(value)}" for key, value in chosen.items())
        options = {**sweep["base"], **chosen, "out": str(Path(workdir) / name / "layer")}
        if isinstance(options.get("size"), str):
            options["size"] = parse_size(options["size"])
        jobs.append((name, options))
    return jobs


def _layer_source(options):
    """The layer a job's options name: of a checkpoint or a bundle, or ``layer`` of a model of one's own."""
    if not options.model:
        return options.source()
    from .convert import convert, load_exported

    module, example = load_exported(options.model)
    conversion = convert(module, example, images=options.images, tile=options.size, layers=[options.layer])
    return conversion.source(options.layer)


def run_job(name, options, directory, *, simulate, frames, synth, seeds):
    """One job, run on a worker: generate, simulate, place and route; its result row (with ``error`` if a step
    failed). A finished job's row is kept in ``<directory>/result.json``."""
    from .layer import generate, simulate as simulate_layer
    from .synth import synthesize

    directory = Path(directory)
    done = directory / RESULT
    if done.is_file():
        return {**json.loads(done.read_text()), "skipped": True}
    started = time.monotonic()
    row = {"name": name, "options": {key: value for key, value in options.items() if key != "out"}}
    try:
        chosen = GenerateOptions(**options)
        manifest = generate(_layer_source(chosen), chosen.out, lanes_in=chosen.lanes_in, pe=chosen.pe,
                            simd=chosen.simd, lanes_out=chosen.lanes_out, compressors=chosen.compressors,
                            device=chosen.target, ports=chosen.ports or "axi", force=True)
        parameters = manifest["parameters"]
        row.update({key: parameters[key] for key in ("pe", "simd", "lanes_in", "lanes_out", "compressors")})
        row.update({"cycle_bound": manifest["cycles"]["bound"], "compressed_bits": manifest["compressed_bits"],
                    "uncompressed_bits": manifest["uncompressed_bits"]})
        if simulate:
            report = simulate_layer(chosen.out, frames=frames)
            row.update({"bit_exact": report["bit_exact"], "cycles": report["cycles"],
                        "first_mismatch": report["first_mismatch"]})
        if synth:
            out = Path(chosen.out)
            result = synthesize(out / manifest["verilog"], manifest["top"], directory / "synth",
                                target=chosen.target, seeds=seeds)
            row.update({key: result[key] for key in ("luts", "ffs", "dsps", "brams", "fmax_mhz", "fmax_by_seed")})
        cycles = row.get("cycles") or row["cycle_bound"]
        if row.get("fmax_mhz"):
            row["frames_per_second"] = round(row["fmax_mhz"] * 1e6 / cycles, 1)
    except Exception as error:  # a failing job is reported with its error; the sweep goes on
        row.update({"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc(limit=8)})
    row["seconds"] = round(time.monotonic() - started, 1)
    if "error" not in row:
        directory.mkdir(parents=True, exist_ok=True)
        done.write_text(json.dumps(row, indent=2) + "\n")
    return row


def _client(scheduler, workers):
    """A Dask client: of the scheduler at ``scheduler``, or of a LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError) as error:
            raise SweepError(f"scheduler: cannot reach the Dask scheduler at {scheduler} ({error})") from None
    # One thread per worker: a job's tools (Verilator, Yosys, nextpnr) use the cores themselves.
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def run_sweep(config, out, *, scheduler=None, workers=2, progress=lambda message: None):
    """Run the sweep in the file ``config`` into ``out``: every job's row in ``out/sweep.json`` and
    ``out/sweep.md``, and LUTs against frames per second in ``out/pareto.png``; return the summary."""
    from distributed import as_completed

    sweep = load_sweep(config)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    jobs = sweep_jobs(sweep, out / "jobs")
    client, cluster = _client(scheduler, workers)
    where = scheduler or f"a LocalCluster of {workers} worker(s)"
    progress(f"{len(jobs)} job(s) on {where}")
    rows = []
    try:
        futures = {client.submit(run_job, name, options, out / "jobs" / name, simulate=sweep["simulate"],
                                 frames=sweep["frames"], synth=sweep["synth"], seeds=sweep["seeds"], pure=False): name
                   for name, options in jobs}
        for future in as_completed(futures):
            row = future.result()
            rows.append(row)
            state = "skipped (done before)" if row.get("skipped") else f"failed: {row['error']}" \
                if "error" in row else f"done in {row['seconds']} s"
            progress(f"[{len(rows)}/{len(jobs)}] {row['name']}: {state}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    order = [name for name, _ in jobs]
    rows.sort(key=lambda row: order.index(row["name"]))
    plot = any(row.get("frames_per_second") for row in rows)
    summary = {"command": "sweep", "config": str(config), "out": str(out), "scheduler": where, "sweep": sweep,
               "jobs": len(jobs), "failed": sum("error" in row for row in rows),
               "plot": str(out / "pareto.png") if plot else None, "rows": rows}
    simulated = [row["bit_exact"] for row in rows if "bit_exact" in row]
    if simulated:
        summary["bit_exact"] = all(simulated)  # a job whose hardware is not bit-exact fails the command
    (out / "sweep.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "sweep.md").write_text(sweep_table(rows))
    if plot:
        pareto_plot(rows, out / "pareto.png")
    return summary


#: Columns of the markdown table: (title, row field).
_COLUMNS = [("job", "name"), ("PE x SIMD", None), ("bit-exact", "bit_exact"), ("cycles/frame", "cycles"),
            ("bound", "cycle_bound"), ("LUT", "luts"), ("FF", "ffs"), ("DSP", "dsps"), ("BRAM", "brams"),
            ("Fmax MHz (by seed)", None), ("frames/s", "frames_per_second"), ("error", "error")]


def _cell(row, title, field):
    if title == "PE x SIMD":
        return f"{row['pe']} x {row['simd']}" if "pe" in row else ""
    if title == "Fmax MHz (by seed)":
        if row.get("fmax_mhz") is None:
            return ""
        return f"{row['fmax_mhz']} ({' / '.join(str(v) for v in row['fmax_by_seed'].values())})"
    value = row.get(field)
    if field == "bit_exact" and value is not None:
        return "yes" if value else "**no**"
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def sweep_table(rows):
    """The rows as a markdown table, one line per job."""
    lines = ["| " + " | ".join(title for title, _ in _COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    lines += ["| " + " | ".join(_cell(row, title, field) for title, field in _COLUMNS) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def pareto_front(rows):
    """The names of the rows no other row beats on both LUTs (fewer) and frames per second (more)."""
    measured = [row for row in rows if row.get("frames_per_second") and row.get("luts")]
    return [row["name"] for row in measured
            if not any(other["luts"] <= row["luts"] and other["frames_per_second"] >= row["frames_per_second"]
                       and (other["luts"], other["frames_per_second"]) != (row["luts"], row["frames_per_second"])
                       for other in measured)]


def pareto_plot(rows, path):
    """LUTs against frames per second, one point per job, the Pareto front joined and named."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [row for row in rows if row.get("frames_per_second") and row.get("luts")]
    front = set(pareto_front(rows))
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.scatter([r["luts"] for r in measured], [r["frames_per_second"] for r in measured], color="0.6")
    best = sorted((r for r in measured if r["name"] in front), key=lambda r: r["luts"])
    axes.plot([r["luts"] for r in best], [r["frames_per_second"] for r in best], "o-", color="C0",
              label="Pareto front")
    for row in best:
        axes.annotate(row["name"], (row["luts"], row["frames_per_second"]), fontsize=7, xytext=(4, 4),
                      textcoords="offset points")
    axes.set_xlabel("LUTs")
    axes.set_ylabel("frames per second (Fmax / cycles per frame)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
