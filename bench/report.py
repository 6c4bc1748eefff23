#!/usr/bin/env python3
"""Turns the loadgen JSON lines of one bench/run.sh run into the comparison
table (stdout) and bench/results/latest.json."""
import argparse
import datetime
import json
import os
import platform

TARGETS = {  # DESIGN.md section 6 (recording has none there: the old 0.5 x)
    "small": ("ratio", 0.05, "<= 0.05 x AB"),
    "big": ("ratio", 0.1, "<= 0.1 x AB"),
    "nolevels": ("ratio", 0.05, "<= 0.05 x AB"),
    "bignolevels": ("ratio", 0.1, "<= 0.1 x AB"),
    "phone": ("ratio", 0.05, "<= 0.05 x AB"),
    "record": ("ratio", 0.5, "<= 0.5 x AB"),
    "idle": ("cpu", 5.0, "< 5 % core"),
    "latency": ("latency", 20.0, "SB p95 <= 20 ms"),
}
TITLES = {
    "small": "3-party rooms, 1 talker each",
    "big": "one 20-party room, 2 talkers",
    "nolevels": "3-party, no levels (phones)",
    "bignolevels": "20-party, 2 talkers, no levels",
    "phone": "3-party G.711 u-law, no levels",
    "record": "3-party rooms, mix recorded",
    "idle": "idle rooms (no participants)",
    "latency": "mouth-to-ear, 3-party rooms",
}
ORDER = ("small", "big", "nolevels", "bignolevels", "phone", "record", "latency", "idle")
# the codec floor of a scenario is the one of the load it repeats
FLOOR_OF = {"record": "small"}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def fmt(v, spec=".2f", none="-"):
    return none if v is None else format(v, spec)


CORES_SHAPES = {
    "nolevels": "3-party Opus rooms without levels, 1 talker each",
    "phone": "3-party G.711 u-law rooms without levels, 1 talker each",
    "bignolevels": "20-party Opus rooms without levels, 2 talkers each",
}


def load_avg():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return None


def cores_table(a):
    """The cores scenario: per core count and plugin, the largest participant
    count of the ramp that held and the smallest that did not."""
    if not a.cores or not os.path.exists(a.cores):
        return None, []
    every = [json.loads(l) for l in open(a.cores) if l.strip()]
    steps = [s for s in every if not s.get("superseded")]  # the repeat decided
    if not steps:
        return None, []
    results = []
    for n in sorted({s["cores"] for s in steps}):
        row = {"cores": n}
        for plugin in ("switchboard", "audiobridge"):
            mine = [s for s in steps if s["cores"] == n and s["plugin"] == plugin]
            if not mine:
                continue
            held = [s for s in mine if s["held"]]
            failed = [s for s in mine if not s["held"]]
            best = max(held, key=lambda s: s["participants"]) if held else None
            first_bad = min(failed, key=lambda s: s["participants"]) if failed else None
            row[plugin] = {
                "held": best["participants"] if best else 0,
                "at_held": best,
                "not_held": first_bad["participants"] if first_bad else None,
                "at_not_held": first_bad,
                "steps": len(mine),
                # a step that held above one that did not: the machine's
                # other work, not the mixer (reported, not hidden)
                "non_monotonic": bool(best and first_bad and best["participants"] > first_bad["participants"]),
            }
        sb, ab = row.get("switchboard"), row.get("audiobridge")
        row["ratio_sb_over_ab"] = sb["held"] / ab["held"] if sb and ab and ab["held"] else None
        results.append(row)
    one = {p: (results[0].get(p) or {}).get("held") for p in ("switchboard", "audiobridge")} if results else {}
    for row in results:
        for p in ("switchboard", "audiobridge"):
            if row.get(p) and one.get(p):
                row[p]["vs_first_core_count"] = row[p]["held"] / one[p]

    def cell(c, plugin):
        if not c:
            return "not run"
        b = c["at_held"]
        t = f"{c['held']}"
        if b:
            t += f" ({b['cpu_pct']:.0f} %"
            if plugin == "switchboard" and "late_frames" in b:
                t += f", late {b['late_frames']}/{b['ticks']}"
                if b.get("canary_late"):
                    t += f", canary {b['canary_late']}"
            t += ")"
        if c["not_held"] is not None:
            t += f"; {c['not_held']}: {c['at_not_held']['why']}"
        else:
            t += "; cap reached"
        return t

    lines = ["", f"Scale over cores ({CORES_SHAPES.get(a.cores_shape, a.cores_shape)}): Janus pinned to N CPUs "
             f"(taskset), Switchboard mixer_threads = N; Janus and loadgen at "
             f"{'normal priority' if not a.cores_prio else 'SCHED_RR 10' if a.cores_prio == 'rr' else 'nice ' + a.cores_prio}; "
             f"participants held: {a.cores_criteria}; load average before: {a.cores_load or '?'}",
             f"{'cores':<7}{'SB held (Janus CPU at it); first not held':<80}"
             f"{'AB held (Janus CPU at it); first not held':<80}{'SB/AB':>7}"]
    for row in results:
        lines.append(f"{row['cores']:<7}{cell(row.get('switchboard'), 'switchboard'):<80}"
                     f"{cell(row.get('audiobridge'), 'audiobridge'):<80}{fmt(row['ratio_sb_over_ab'], '.1f'):>7}")
        for p in ("switchboard", "audiobridge"):
            if (row.get(p) or {}).get("non_monotonic"):
                lines.append(f"{'':<7}WARNING: {p} held a step above one it did not hold: the machine was busy")
    doc = {"shape": a.cores_shape, "shape_title": CORES_SHAPES.get(a.cores_shape), "criteria": a.cores_criteria,
           "priority": a.cores_prio or "normal", "loadavg_before": a.cores_load, "loadavg_at_report": load_avg(),
           "results": results, "steps": every}
    return doc, lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("out")
    ap.add_argument("--janus-pid", default="")
    ap.add_argument("--janus-info", default="")
    ap.add_argument("--ab-quality", type=int, default=10)
    ap.add_argument("--ab-bitrate", type=int, default=32000)
    ap.add_argument("--idle-target-rooms", type=int, default=5000)
    ap.add_argument("--sb-jitter", default="?", help="Switchboard jitter_min_frames-jitter_max_frames")
    ap.add_argument("--floor", default="", help="bench/floor JSON lines, one per scenario")
    ap.add_argument("--phone-rate", type=int, default=16000)
    ap.add_argument("--cores", default="", help="cores scenario: one verdict per ramp step (JSON lines)")
    ap.add_argument("--cores-shape", default="nolevels")
    ap.add_argument("--cores-criteria", default="")
    ap.add_argument("--cores-load", default="", help="load average before the cores scenario")
    ap.add_argument("--cores-prio", default="", help="BENCH_CORES_PRIO of the run (empty: normal)")
    a = ap.parse_args()
    floors = {}
    if a.floor and os.path.exists(a.floor):
        for line in open(a.floor):
            if line.strip():
                f = json.loads(line)
                floors[f["label"]] = f

    runs = [json.loads(l) for l in open(a.runs) if l.strip()]
    by = {(r.get("label"), r.get("plugin")): r for r in runs}
    info = {}
    if a.janus_info and os.path.exists(a.janus_info):
        info = json.load(open(a.janus_info))
    base = by.get(("baseline", "audiobridge"), {})
    base_pct = base.get("janus_cpu_pct") if base.get("ok") else None

    def good(r):
        return r is not None and r.get("ok") and r.get("janus_cpu_pct", -1) >= 0

    def grown_kb(r):
        """What the run's rooms and participants hold: Janus's RSS growth."""
        before, during = r.get("janus_rss_before_kb", -1), r.get("janus_rss_kb", -1)
        return during - before if before >= 0 and during >= 0 else None

    comparisons = []
    lines = []
    hdr = (f"{'scenario':<31}{'plugin':<13}{'load':>16}{'CPU %core':>11}{'per part.':>11}"
           f"{'per talker':>11}{'rx pkts/exp':>18}{'voice':>7}{'echo':>6}")
    sep = "-" * len(hdr)
    lines += [hdr, sep]
    for sc in ORDER:
        sb, ab = by.get((sc, "switchboard")), by.get((sc, "audiobridge"))
        if sb is None and ab is None:
            continue
        comp = {"scenario": sc, "title": TITLES[sc]}
        first = True
        for name, r in (("switchboard", sb), ("audiobridge", ab)):
            title = TITLES[sc] if first else ""
            first = False
            if r is None:
                lines.append(f"{title:<31}{name:<13}{'not run':>16}")
                continue
            if r.get("skipped"):
                lines.append(f"{title:<31}{name:<13}{'SKIPPED':>16}  ({r['skipped']})")
                comp[name] = {"ok": False, "skipped": r["skipped"]}
                continue
            if not good(r):
                lines.append(f"{title:<31}{name:<13}{'FAILED':>16}  (see bench/results/run/{sc}-{name}.log)")
                comp[name] = {"ok": False}
                continue
            pct = r["janus_cpu_pct"]
            d = {"ok": True, "cpu_pct": pct, "window_s": r["window_s"], "rss_growth_kb": grown_kb(r)}
            if sc == "latency":
                lat = r.get("latency") or {}
                if not lat.get("samples"):
                    lines.append(f"{title:<31}{name:<13}{'NO SAMPLES':>16}  (see bench/results/run/{sc}-{name}.log)")
                    comp[name] = {"ok": False}
                    continue
                n = r["participants"]
                d.update(participants=n, latency=lat, probe=r.get("latency_probe"))
                if r.get("audiobridge_queues"):
                    d["audiobridge_queues"] = r["audiobridge_queues"]
                load = f"{r['rooms']}x{r['per_room']} ({n})"
                ms = f"{lat['p50_ms']:.1f}/{lat['p95_ms']:.1f}/{lat['max_ms']:.1f}"
                lines.append(f"{title:<31}{name:<13}{load:>16}{pct:>11.2f}{'p50/p95/max ms':>22}"
                             f"{ms:>18}{'heard ' + str(lat['samples']) + '/' + str(lat['expected']):>17}")
                comp[name] = d
                continue
            if r.get("idle"):
                rooms = r["rooms_created"]
                d.update(rooms=rooms, cpu_pct_per_1000_rooms=1000 * pct / rooms if rooms else None,
                         kb_per_room=d["rss_growth_kb"] / rooms if rooms and d["rss_growth_kb"] is not None else None)
                load = f"{rooms} rooms"
                per = f"{d['cpu_pct_per_1000_rooms']:.3f}/1k rm" if rooms else "-"
                lines.append(f"{title:<31}{name:<13}{load:>16}{pct:>11.2f}{per:>22}")
            else:
                n, t = r["participants"], r["active_participants"]
                rx = r["rx_window_talkers"] + r["rx_window_listeners"]
                exp = round(r["expected_rx_per_participant"] * n)
                lrx, lv = r["room0_listener_rx"], r["room0_listener_voice_frames"]
                trx, tv = r["room0_talker_rx"], r["room0_talker_voice_frames"]
                voice = lv / lrx if lrx else None
                echo = tv / trx if trx and r["talkers_per_room"] == 1 else None
                d.update(participants=n, talkers=t, cpu_pct_per_participant=pct / n,
                         kb_per_participant=d["rss_growth_kb"] / n if n and d["rss_growth_kb"] is not None else None,
                         cpu_pct_per_talker=pct / t if t else None, rx_window=rx,
                         rx_expected=exp, participants_receiving=r["participants_receiving"],
                         listener_voice_share=voice, talker_self_voice_share=echo)
                load = f"{r['rooms']}x{r['per_room']} ({n})"
                lines.append(
                    f"{title:<31}{name:<13}{load:>16}{pct:>11.2f}{pct / n:>11.3f}"
                    f"{fmt(d['cpu_pct_per_talker'], '.3f'):>11}{f'{rx}/{exp}':>18}"
                    f"{fmt(voice and 100 * voice, '.0f') + '%':>7}"
                    f"{(fmt(100 * echo, '.0f') + '%') if echo is not None else '-':>6}")
            comp[name] = d
        # ratio and target
        s, b = comp.get("switchboard"), comp.get("audiobridge")
        kind, limit, text = TARGETS[sc]
        ratio = None
        if s and b and s.get("ok") and b.get("ok"):
            if sc == "latency":
                sl, bl = s["latency"], b["latency"]
                ratio = sl["p50_ms"] / bl["p50_ms"] if bl["p50_ms"] else None
                comp["ratio_p95_sb_over_ab"] = sl["p95_ms"] / bl["p95_ms"] if bl["p95_ms"] else None
            elif sc == "idle":
                sp, bp = s.get("cpu_pct_per_1000_rooms"), b.get("cpu_pct_per_1000_rooms")
                ratio = sp / bp if sp is not None and bp else None
            else:
                sp, bp = s["cpu_pct_per_participant"], b["cpu_pct_per_participant"]
                ratio = sp / bp if bp else None
        comp["ratio_sb_over_ab"] = ratio
        verdict = "n/a"
        if kind == "ratio" and ratio is not None:
            verdict = "PASS" if ratio <= limit else "FAIL"
        if kind == "latency" and s and s.get("ok"):
            verdict = "PASS" if s["latency"]["p95_ms"] <= limit else "FAIL"
        if kind == "cpu" and s and s.get("ok"):
            ok_rooms = s.get("rooms", 0) >= a.idle_target_rooms
            verdict = "PASS" if s["cpu_pct"] < limit and ok_rooms else "FAIL"
        comp["target"] = text
        comp["verdict"] = verdict
        rtext = f"ratio switchboard/audiobridge = {fmt(ratio, '.3f')}" + (" (per room)" if sc == "idle" else "")
        extra = ""
        if sc == "latency":
            rtext = (f"ratio switchboard/audiobridge p50 {fmt(ratio, '.2f')}, "
                     f"p95 {fmt(comp.get('ratio_p95_sb_over_ab'), '.2f')}")
            q = (b or {}).get("audiobridge_queues") or {}
            comp["jitter"] = {
                "switchboard": f"jitter_min_frames-jitter_max_frames = {a.sb_jitter} (20 ms frames, adaptive)",
                "audiobridge": "default_prebuffering = 6 packets (1.1.2 default; not overridden)"
                               + (f"; prebuffer-count read back {q.get('prebuffer_count')}, talker queue-in "
                                  f"mean {q.get('talker_queue_in_mean', 0):.1f} (min {q.get('talker_queue_in_min')}, "
                                  f"max {q.get('talker_queue_in_max')}) packets" if q else ""),
            }
            extra += f"; jitter: SB {a.sb_jitter} frames, AB prebuffer " + (
                f"{q.get('prebuffer_count')} (queue-in mean {q.get('talker_queue_in_mean', 0):.1f})" if q else "6 (default)")
        mem = []
        for name, short in (("switchboard", "SB"), ("audiobridge", "AB")):
            c = comp.get(name) or {}
            per = c.get("kb_per_room" if sc == "idle" else "kb_per_participant")
            if c.get("ok") and per is not None:
                mem.append(f"{short} {per:.1f}")
        if mem and sc != "latency":
            extra += f"; memory kB per {'room' if sc == 'idle' else 'participant'}: {', '.join(mem)}"
        if sc == "idle":
            if b and b.get("ok") and b.get("cpu_pct_per_1000_rooms") is not None:
                proj = b["cpu_pct_per_1000_rooms"] * a.idle_target_rooms / 1000
                comp["audiobridge_projected_cpu_pct"] = proj
                extra += f"; AudioBridge at {a.idle_target_rooms} rooms ~{proj:.0f} % core (projected)"
            if s and s.get("ok"):
                extra += f"; Switchboard {s['rooms']} rooms = {s['cpu_pct']:.2f} % core"
        dirty = [n for n, r in (("switchboard", sb), ("audiobridge", ab))
                 if r is not None and r.get("foreign_sessions_max", 0) > 0]
        if dirty:
            comp["contaminated"] = dirty
            extra += (f"; WARNING: other clients had sessions on this Janus during the "
                      f"{'/'.join(dirty)} window: figures not clean, run again")
        if sc == "record":
            # What recording adds to the same load without it, per plugin.
            for name in ("switchboard", "audiobridge"):
                rec, plain = comp.get(name), None
                for c in comparisons:
                    if c["scenario"] == "small":
                        plain = c.get(name)
                if rec and rec.get("ok") and plain and plain.get("ok") and plain["cpu_pct"]:
                    cost = rec["cpu_pct"] - plain["cpu_pct"]
                    comp[f"{name}_recording_cost_pct"] = cost
                    extra += f"; {name} recording adds {cost:.2f} % core"
        floor = floors.get(FLOOR_OF.get(sc, sc))
        if floor:
            comp["codec_floor_cpu_pct"] = floor["floor_cpu_pct"]
            comp["codec_floor"] = floor
            extra += f"; codec floor {floor['floor_cpu_pct']:.2f} % core"
            if s and s.get("ok") and floor["floor_cpu_pct"] > 0:
                comp["switchboard_over_floor"] = s["cpu_pct"] / floor["floor_cpu_pct"]
                extra += f", switchboard = {comp['switchboard_over_floor']:.2f} x floor"
            if b and b.get("ok") and floor["floor_cpu_pct"] > 0:
                comp["audiobridge_over_floor"] = b["cpu_pct"] / floor["floor_cpu_pct"]
                extra += f", audiobridge = {comp['audiobridge_over_floor']:.1f} x"
        lines.append(f"{'':<31}=> {rtext}; target {text}: {verdict}{extra}")
        lines.append(sep)
        comparisons.append(comp)

    cores_doc, cores_lines = cores_table(a)
    lines += cores_lines

    nproc = os.cpu_count()
    head = [
        "Switchboard vs AudioBridge - one Janus process, same machine, same run",
        f"Janus {info.get('version_string', '?')} pid {a.janus_pid}; {nproc} CPUs ({cpu_model()}); "
        f"{datetime.datetime.now().isoformat(timespec='seconds')}",
        f"CPU = utime+stime of the Janus process over the steady window, % of one core; "
        f"Janus baseline with no rooms: {fmt(base_pct)} %",
        f"Load: plain RTP Opus 20 ms (espeak-ng speech, 48 kHz mono 32 kbit/s) + RFC 6464 levels, rooms "
        f"mixing at 48 kHz; 'no levels': the same without the extension; G.711: mu-law 8 kHz legs, "
        f"rooms at {a.phone_rate} Hz; AudioBridge joins with quality={a.ab_quality} bitrate={a.ab_bitrate}",
        "codec floor (bench/floor): decode every frame a mixer must decode (talkers; everyone without "
        "levels), encode each distinct mix once, nothing else, on one core; a lone talker forwarded "
        "as sent needs no codec work, so a mixer can go below it",
        "rx pkts/exp: mix packets the load generator got back in the window / 50 per participant per s;",
        "memory: growth of Janus's resident set from before the run's first room to the end of its window, "
        "per room (idle) or per participant (rooms included); a lower bound after earlier runs freed memory",
        "voice: room 0 non-talkers' decoded frames louder than -60 dBov; echo: same for the lone talker (own voice back)",
        "mouth-to-ear: talker sends a 200 ms 1 kHz burst each second; every listener decodes and times the first "
        "frame above -30 dBov after >= 100 ms of quiet, minus the send time of the burst's first packet "
        "(CLOCK_MONOTONIC, loopback); heard/exp = bursts x listeners",
        "",
    ]
    text = "\n".join(head + lines)
    print(text)

    doc = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "host": {"cpus": nproc, "cpu_model": cpu_model(), "kernel": platform.release()},
        "janus": {"version": info.get("version_string"), "pid": a.janus_pid},
        "method": "utime+stime of the Janus process from /proc/PID/stat at the start and end of the "
                  "steady window (after warm-up); % of one core",
        "audiobridge_join": {"quality": a.ab_quality, "bitrate": a.ab_bitrate},
        "baseline_cpu_pct": base_pct,
        "comparisons": comparisons,
        "cores": cores_doc,
        "runs": runs,
        "table": text,
    }
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
