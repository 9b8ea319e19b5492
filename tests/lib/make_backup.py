#!/usr/bin/python3
"""Build a base backup in the repository layout from a STOPPED PostgreSQL cluster, with the
real tools: GNU tar makes the parts, the lzop CLI compresses them, and this script writes
the stop sentinel last (and, for --format pgattest, manifest.json and our sentinel keys).

  make_backup.py --pgdata DIR --repo DIR --format wale|pgattest [--pgbin DIR]

--format wale gives exactly what WAL-E stores: parts, extended_version.txt and a sentinel
with only WAL-E's keys. The backup is named after the REDO location of the cluster's last
(shutdown) checkpoint, which is where recovery starts. Tablespaces (pg_tblspc/<oid> links)
go into their own part as pg_tblspc/<oid>/... (WAL-E's convention) and into the sentinel's
spec. Prints the backup name.
"""
import argparse, datetime, hashlib, json, os, re, subprocess, sys, tarfile, tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--pgdata", required=True)
ap.add_argument("--repo", required=True)
ap.add_argument("--format", choices=["wale", "pgattest"], required=True)
ap.add_argument("--pgbin", default="/usr/lib/postgresql/15/bin")
args = ap.parse_args()
pgdata = os.path.realpath(args.pgdata)

control = subprocess.run([os.path.join(args.pgbin, "pg_controldata"), pgdata], check=True,
                         capture_output=True, text=True, env=dict(os.environ, LC_ALL="C")).stdout
ctl = dict(line.split(":", 1) for line in control.splitlines() if ":" in line)
ctl = {k.strip(): v.strip() for k, v in ctl.items()}
if ctl["Database cluster state"] != "shut down":
    sys.exit("make_backup.py: the cluster must be stopped cleanly (state: %s)"
             % ctl["Database cluster state"])

def lsn(text):
    hi, lo = text.split("/")
    return int(hi, 16) << 32 | int(lo, 16)

seg_size = int(ctl["Bytes per WAL segment"])
tli = int(ctl["Latest checkpoint's TimeLineID"])
redo = lsn(ctl["Latest checkpoint's REDO location"])
ckpt = lsn(ctl["Latest checkpoint location"])
per_id = 0x100000000 // seg_size

def segname(pos):
    segno = pos // seg_size
    return "%08X%08X%08X" % (tli, segno // per_id, segno % per_id)

name = "base_%s_%08d" % (segname(redo), redo % seg_size)
top = os.path.join(args.repo, "basebackups_005")
bdir = os.path.join(top, name)
os.makedirs(os.path.join(bdir, "tar_partitions"))

tablespaces = sorted(os.listdir(os.path.join(pgdata, "pg_tblspc")))
excluded = ["pg_wal/*", "postmaster.pid", "postmaster.opts", "pg_replslot/*",
            "pg_tblspc/*", "pgsql_tmp*"]
others = sorted(e for e in os.listdir(pgdata) if e != "base")
groups = [others, ["base"]] + [["pg_tblspc/" + oid] for oid in tablespaces]

work = tempfile.mkdtemp()
parts, files, expanded = [], [], 0
for i, members in enumerate(groups):
    plain = os.path.join(work, "part_%08d.tar" % i)
    cmd = ["tar", "-C", pgdata, "-cf", plain]
    if members[0].startswith("pg_tblspc/"):
        cmd.append("--dereference")  # store the tablespace's contents, not the link
    else:
        cmd += ["--exclude=" + x for x in excluded]
    subprocess.run(cmd + members, check=True)
    with tarfile.open(plain) as tf:
        for m in tf:
            entry = {"path": m.name, "mode": m.mode, "part": i}
            if m.isdir():
                entry["type"] = "dir"
            elif m.issym():
                entry.update(type="symlink", target=m.linkname)
            else:
                h = hashlib.sha256()
                f = tf.extractfile(m)
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
                entry.update(type="file", size=m.size, mtime=int(m.mtime), sha256=h.hexdigest())
                expanded += m.size
            files.append(entry)
    stored = os.path.join(bdir, "tar_partitions", "part_%08d.tar.lzo" % i)
    with open(stored, "wb") as out:
        subprocess.run(["lzop", "-c", plain], stdout=out, check=True)
    data = open(stored, "rb").read()
    parts.append({"name": os.path.basename(stored), "size": len(data),
                  "sha256": hashlib.sha256(data).hexdigest()})
    os.unlink(plain)
os.rmdir(work)

version = subprocess.run([os.path.join(args.pgbin, "postgres"), "-V"], check=True,
                         capture_output=True, text=True).stdout.strip()
with open(os.path.join(bdir, "extended_version.txt"), "w") as f:
    f.write(version + "\n")

spec = {"base_prefix": pgdata, "tablespaces": tablespaces}
for oid in tablespaces:
    spec[oid] = {"loc": os.readlink(os.path.join(pgdata, "pg_tblspc", oid)),
                 "link": "pg_tblspc/" + oid}
sentinel = {"wal_segment_backup_stop": segname(ckpt),
            "wal_segment_offset_backup_stop": "%08d" % (ckpt % seg_size),
            "expanded_size_bytes": expanded, "spec": spec}
if args.format == "pgattest":
    manifest = json.dumps({"pgattest_manifest": 1, "backup": name, "files": files},
                          indent=1).encode()
    with open(os.path.join(bdir, "manifest.json"), "wb") as f:
        f.write(manifest)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    m = re.search(r"(\d+)\.(\d+)", version)
    sentinel.update({
        "pgattest_format": 1, "start_lsn": "%X/%X" % (redo >> 32, redo & 0xffffffff),
        "stop_lsn": "%X/%X" % (ckpt >> 32, ckpt & 0xffffffff), "timeline": tli,
        "start_time": now, "stop_time": now,
        "system_identifier": ctl["Database system identifier"],
        "server_version": int(m.group(1)) * 10000 + int(m.group(2)),
        "wal_segment_size": seg_size,
        "compressed_size_bytes": sum(p["size"] for p in parts), "parts": parts,
        "manifest": {"name": "manifest.json", "size": len(manifest),
                     "sha256": hashlib.sha256(manifest).hexdigest()}})
with open(os.path.join(top, name + "_backup_stop_sentinel.json"), "w") as f:
    json.dump(sentinel, f, indent=1)
print(name)
