#!/usr/bin/env python3
"""report.py — turn bench/run.sh's raw timings into the table (stdout) and results.json.

    report.py RESULTS.tsv META.tsv OUT.json

RESULTS.tsv has one row per timed run (input, tool, run, wall_s, rss_kib, user_s, sys_s, rc);
META.tsv holds key<TAB>value lines written by run.sh (date, command, versions, the floor's
packet count, vakt's --stats JSON per input). Per tool and input the best (lowest) wall time
over the runs counts; throughput is the capture's packet bytes (sum of caplen, as the floor
counts them) and packets over that time. Ratios are throughput ratios, i.e. time ratios:
vakt / X = wall(X) / wall(vakt). They are also given on CPU time (user+sys), which a busy
neighbour on the same core disturbs less than wall time.
"""
import json
import sys

TOOLS = ['floor', 'vakt', 'vakt-nodpi', 'vakt-stats', 'ndpiReader', 'tshark', 'argus']
LABEL = {'floor': 'libpcap floor', 'vakt': 'vakt', 'vakt-nodpi': 'vakt --no-dpi',
         'vakt-stats': 'vakt --stats', 'ndpiReader': 'ndpiReader', 'tshark': 'tshark',
         'argus': 'argus'}
# (key, peer, goal, kind): vakt must be >= goal x the peer's throughput (or goal % of it).
GOALS = [('vakt_vs_ndpiReader', 'ndpiReader', 2.0, 'x'),
         ('vakt_vs_tshark', 'tshark', 10.0, 'x'),
         ('vakt_vs_floor_pct', 'floor', 40.0, '%')]


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip('\n').partition('\t')
            meta[key] = value
    return meta


def read_runs(path):
    runs = {}
    with open(path) as f:
        next(f)
        for line in f:
            name, tool, run, wall, rss, usr, sys_, rc = line.rstrip('\n').split('\t')
            runs.setdefault(name, {}).setdefault(tool, []).append({
                'run': int(run), 'wall_s': float(wall), 'rss_kib': int(rss or 0),
                'cpu_s': round(float(usr or 0) + float(sys_ or 0), 2), 'rc': int(rc)})
    return runs


def kv(text):
    """'packets=1 bytes=2' -> {'packets': 1, 'bytes': 2}"""
    out = {}
    for item in text.split():
        k, _, v = item.partition('=')
        if v.isdigit():
            out[k] = int(v)
    return out


def summarise(name, tools_runs, meta):
    floor = kv(meta.get('floor_' + name, ''))
    try:
        stats = json.loads(meta.get('stats_' + name) or '{}')
    except ValueError:
        stats = {}
    packets = floor.get('packets') or stats.get('packets')
    pbytes = floor.get('bytes') or stats.get('bytes')
    res = {'file': 'bench/out/%s.pcap' % name, 'file_bytes': int(meta.get('size_' + name, 0)),
           'packets': packets, 'packet_bytes': pbytes, 'tools': {}}
    if floor and stats and stats.get('packets') != floor.get('packets'):
        res['warning'] = 'vakt counted %s packets, the floor %s' % (stats.get('packets'),
                                                                     floor.get('packets'))
    for tool in TOOLS:
        runs = tools_runs.get(tool)
        if not runs:
            continue
        ok = [r for r in runs if r['rc'] == 0]
        t = {'command': meta.get('cmd_' + tool, '').replace('FILE', res['file']),
             'runs': runs, 'ok': len(ok) == len(runs)}
        if ok:
            wall = min(r['wall_s'] for r in ok)
            t.update({'wall_s': wall, 'cpu_s': min(r['cpu_s'] for r in ok),
                      'peak_rss_kib': max(r['rss_kib'] for r in ok),
                      'gbit_s': round(pbytes * 8 / wall / 1e9, 3) if pbytes and wall else None,
                      'pkts_s': round(packets / wall) if packets and wall else None})
        res['tools'][tool] = t
    if stats:
        active = stats.get('peak_active') or 0
        res['vakt_stats'] = {
            'sessions': stats.get('sessions'), 'peak_active': active,
            'peak_state_bytes': stats.get('peak_state_bytes'),
            'state_bytes_per_session': round(stats['peak_state_bytes'] / active, 1)
            if active and 'peak_state_bytes' in stats else None}
    ratios = {}
    for variant in ('vakt', 'vakt-nodpi'):
        v = res['tools'].get(variant, {})
        for key, peer, goal, kind in GOALS:
            p = res['tools'].get(peer, {})
            if 'wall_s' not in v or 'wall_s' not in p:
                continue
            scale = 100.0 if kind == '%' else 1.0
            wall = round(scale * p['wall_s'] / v['wall_s'], 2)
            cpu = round(scale * p['cpu_s'] / v['cpu_s'], 2) if v['cpu_s'] and p['cpu_s'] else None
            k = key if variant == 'vakt' else key.replace('vakt_', 'vakt_nodpi_')
            ratios[k] = {'wall': wall, 'cpu': cpu, 'goal': goal, 'met': wall >= goal}
    res['ratios'] = ratios
    return res


def fmt(x, spec):
    return format(x, spec) if x is not None else '-'


def print_table(name, r):
    print('\n%s  (%s bytes on disk, %s packets, %s packet bytes)' % (
        name, format(r['file_bytes'], ','), fmt(r['packets'], ','), fmt(r['packet_bytes'], ',')))
    if 'warning' in r:
        print('  WARNING: ' + r['warning'])
    print('  %-15s %9s %-17s %8s %10s %9s %8s' % ('tool', 'wall s', '(runs)', 'Gbit/s',
                                                  'pkts/s', 'RSS MiB', 'cpu s'))
    for tool, t in r['tools'].items():
        walls = ','.join('%.2f' % x['wall_s'] if x['rc'] == 0 else 'FAIL' for x in t['runs'])
        if 'wall_s' not in t:
            print('  %-15s %9s (%s)' % (LABEL[tool], 'FAILED', walls))
            continue
        print('  %-15s %9.2f %-17s %8s %10s %9s %8s' % (
            LABEL[tool], t['wall_s'], '(%s)' % walls, fmt(t['gbit_s'], '.2f'),
            fmt(t['pkts_s'], ',.0f'), fmt(t['peak_rss_kib'] / 1024, '.0f'), fmt(t['cpu_s'], '.2f')))
    ra = r['ratios']
    if ra:
        print('  %-27s %-20s %-20s %s' % ('throughput ratio', 'vakt', 'vakt --no-dpi', 'goal'))
        for key, peer, goal, kind in GOALS:
            cells = []
            for k in (key, key.replace('vakt_', 'vakt_nodpi_')):
                x = ra.get(k)
                if x is None:
                    cells.append('-')
                    continue
                unit = '%' if kind == '%' else 'x'
                cpu = ' [%s%s]' % (fmt(x['cpu'], '.0f' if kind == '%' else '.2f'), unit) if x['cpu'] else ''
                cells.append('%s%s%s %s' % (fmt(x['wall'], '.0f' if kind == '%' else '.2f'),
                                            unit, cpu, 'ok' if x['met'] else 'MISS'))
            if cells == ['-', '-']:
                continue
            label = 'vakt / %s' % LABEL[peer]
            print('  %-27s %-20s %-20s %s' % (label, cells[0], cells[1],
                                             ('>=%g%%' if kind == '%' else '>=%gx') % goal))
    s = r.get('vakt_stats')
    if s:
        print('  vakt flow state: %s bytes per session (peak_state_bytes %s / peak_active %s); '
              'sessions %s' % (fmt(s['state_bytes_per_session'], ',.0f'),
                               fmt(s['peak_state_bytes'], ','), fmt(s['peak_active'], ','),
                               fmt(s['sessions'], ',')))


def main():
    tsv, meta_path, out = sys.argv[1:4]
    meta = read_meta(meta_path)
    runs = read_runs(tsv)
    doc = {'date': meta.get('date'), 'command': meta.get('command'),
           'bench_mb': int(meta.get('bench_mb', 0)), 'runs': int(meta.get('runs', 0)),
           'cpu': int(meta.get('cpu', 0)), 'seed': int(meta.get('seed', 0)),
           'host': {'cpu': meta.get('host_cpu'), 'cores': meta.get('host_cores'),
                    'kernel': meta.get('kernel'), 'loadavg_start': meta.get('load_start'),
                    'loadavg_end': meta.get('load_end')},
           'versions': {k[4:]: v for k, v in meta.items() if k.startswith('ver_')},
           'vakt_binary': {'sha256_16': meta.get('vakt_sha256'), 'tree': meta.get('vakt_tree')},
           'goals': {k: g for k, _, g, _ in GOALS},
           'notes': 'wall_s = best of runs; gbit_s and pkts_s over packet bytes (sum of caplen) '
                    'and packets; ratios are throughput ratios on wall time (cpu = on user+sys '
                    'CPU time); vakt_vs_floor_pct in percent',
           'inputs': {}}
    for name in runs:
        doc['inputs'][name] = summarise(name, runs[name], meta)
    with open(out, 'w') as f:
        json.dump(doc, f, indent=2)
        f.write('\n')
    print('vakt benchmark  %s  %s' % (doc['date'], doc['command']))
    print('one core (taskset -c %d), best wall time of %d run(s); host %s, %s cores, load %s -> %s'
          % (doc['cpu'], doc['runs'], doc['host']['cpu'], doc['host']['cores'],
             doc['host']['loadavg_start'], doc['host']['loadavg_end']))
    print('vakt binary sha256 %s..., tree %s' % (doc['vakt_binary']['sha256_16'],
                                                  doc['vakt_binary']['tree']))
    print("ratios: vakt's throughput over the peer's, from wall time; [in brackets] from CPU "
          "time (user+sys)")
    for name, r in doc['inputs'].items():
        print_table(name, r)


if __name__ == '__main__':
    main()
