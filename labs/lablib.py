"""lablib.py - the machinery shared by labs/handout, labs/grade and
labs/selftest: finding a lab, the LAB markers, building a tree, running
nestlab, and printing a check's verdict.

A lab is a directory labs/NN-name/ with a README.md (the student's handout)
and a lab.py that says what the lab needs and how it is graded:

    TITLE    = "PV memory: validated direct paging"
    DEPENDS  = []            # labs whose code this lab's code builds on
    TARGETS  = ["nesthv"]    # the CMake targets the checks need (fast builds)
    CHECKS   = [Check(...), ...]

A region a student writes is marked in the source, in any C or assembly
file of the tree:

    /* LAB 3: BEGIN what the student writes here
       stub line 1                <- the stub: what the handout puts instead
       stub line 2
    */
    ... the solution ...
    /* LAB 3: END */

The first line of the BEGIN comment after "BEGIN" is a one-line task name;
the following lines up to the comment's end are the stub text, kept with
their indentation.  The handout replaces the whole region (both marker
comments included) by one "/* LAB 3: TODO task name */" line and the stub.
"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys

LABS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(LABS_DIR)
MARKED_EXTS = (".c", ".h", ".S")
BEGIN_RE = re.compile(r"^(\s*)/\* LAB (\d+): BEGIN(.*)$")
END_RE = re.compile(r"^\s*/\* LAB (\d+): END \*/\s*$")
TODO_RE = re.compile(r"/\* LAB (\d+): TODO")


class LabError(Exception):
    """A problem a user can fix: printed without a traceback."""


# ---------------------------------------------------------------- labs

def lab_dirs():
    """{number: directory} of every lab under labs/."""
    out = {}
    for d in sorted(os.listdir(LABS_DIR)):
        m = re.match(r"^(\d\d)-[a-z0-9-]+$", d)
        if m and os.path.isfile(os.path.join(LABS_DIR, d, "lab.py")):
            out[int(m.group(1))] = os.path.join(LABS_DIR, d)
    return out


def load_lab(n):
    dirs = lab_dirs()
    if n not in dirs:
        raise LabError(f"no lab {n}: the labs are {', '.join(map(str, sorted(dirs)))}"
                       f" (directories labs/NN-name with a lab.py)")
    spec = importlib.util.spec_from_file_location(f"lab{n}", os.path.join(dirs[n], "lab.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, LABS_DIR)
    spec.loader.exec_module(mod)
    mod.NUMBER, mod.DIR = n, dirs[n]
    return mod


def labs_to_stub(n):
    """Lab n and every later lab that depends on it, directly or not."""
    dirs = lab_dirs()
    deps = {m: set(load_lab(m).DEPENDS) for m in dirs}
    out = {n}
    changed = True
    while changed:
        changed = False
        for m in dirs:
            if m not in out and deps[m] & out:
                out.add(m)
                changed = True
    return out


def parse_arg_lab(s):
    try:
        return int(s)
    except ValueError:
        raise LabError(f"lab number {s!r} is not a number (try: 1, 2, 3)")


# ---------------------------------------------------------------- markers

def tree_files(tree):
    """The files of a tree: git's list in a git checkout (tracked and new,
    not ignored), otherwise every file outside build directories."""
    if os.path.exists(os.path.join(tree, ".git")):
        r = subprocess.run(["git", "-C", tree, "ls-files", "-co", "--exclude-standard", "-z"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            return sorted(f for f in r.stdout.decode().split("\0")
                          if f and os.path.isfile(os.path.join(tree, f)))
    out = []
    for root, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if not d.startswith(("build", ".git"))]
        for f in files:
            out.append(os.path.relpath(os.path.join(root, f), tree))
    return sorted(out)


def parse_regions(path, text):
    """The LAB regions of one file: [(lab, first_line, last_line, task, stub)]
    (0-based, inclusive).  Raises LabError naming file:line on a malformed
    marker."""
    lines = text.split("\n")
    regions, i = [], 0
    while i < len(lines):
        m = BEGIN_RE.match(lines[i])
        if not m:
            e = END_RE.match(lines[i])
            if e:
                raise LabError(f"{path}:{i + 1}: LAB {e.group(1)}: END without a BEGIN")
            i += 1
            continue
        lab, start, first = int(m.group(2)), i, m.group(3)
        if first.rstrip().endswith("*/"):         # one-line BEGIN: empty stub
            task, stub, j = first.rstrip()[:-2].strip(), [], i + 1
        else:
            task, stub, j = first.strip(), [], i + 1
            while j < len(lines) and "*/" not in lines[j]:
                stub.append(lines[j])
                j += 1
            if j == len(lines):
                raise LabError(f"{path}:{start + 1}: LAB {lab}: BEGIN comment never closed")
            if lines[j].strip() != "*/":
                raise LabError(f"{path}:{j + 1}: LAB {lab}: the BEGIN comment must end "
                               f"with a line holding only */")
            j += 1
        k = j
        while k < len(lines) and not END_RE.match(lines[k]):
            if BEGIN_RE.match(lines[k]):
                raise LabError(f"{path}:{k + 1}: LAB region inside the LAB {lab} region "
                               f"of line {start + 1} (regions do not nest)")
            k += 1
        if k == len(lines):
            raise LabError(f"{path}:{start + 1}: LAB {lab}: BEGIN without an END")
        if int(END_RE.match(lines[k]).group(1)) != lab:
            raise LabError(f"{path}:{k + 1}: LAB {END_RE.match(lines[k]).group(1)}: END "
                           f"closes the LAB {lab} region of line {start + 1}")
        if not task:
            raise LabError(f"{path}:{start + 1}: LAB {lab}: BEGIN needs a task name")
        regions.append((lab, start, k, task, stub, m.group(1)))
        i = k + 1
    return regions


def strip_regions(path, text, labs):
    """text with the regions of the given labs replaced by their stubs."""
    lines = text.split("\n")
    regions = [r for r in parse_regions(path, text) if r[0] in labs]
    for lab, start, end, task, stub, indent in reversed(regions):
        lines[start:end + 1] = [f"{indent}/* LAB {lab}: TODO {task} */"] + stub
    return "\n".join(lines)


def all_regions(tree):
    """{lab: [(file, line, task)]} over the whole tree; LabError if malformed."""
    out = {}
    for f in tree_files(tree):
        if not f.endswith(MARKED_EXTS):
            continue
        with open(os.path.join(tree, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        if "/* LAB " not in text:
            continue
        for lab, start, _, task, _, _ in parse_regions(f, text):
            out.setdefault(lab, []).append((f, start + 1, task))
    return out


# ---------------------------------------------------------------- building

def build(tree, build_dir, targets, log):
    """Configure (once) and build the given targets; True if it worked.
    Output goes to log (a file object) and, on failure, its tail to stdout."""
    cmds = [["cmake", "-S", tree, "-B", build_dir]]       # cheap when configured already
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        cmds[0].append("-DCMAKE_BUILD_TYPE=RelWithDebInfo")
    cmds.append(["cmake", "--build", build_dir, "-j2", "--target"] + targets)
    for cmd in cmds:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        text = r.stdout.decode("utf-8", "replace")
        log.write(text)
        if r.returncode:
            errs = [l for l in text.split("\n") if "error" in l.lower()]
            print("  build failed: " + " ".join(cmd))
            for l in (errs or text.split("\n"))[-15:]:
                print("    " + l)
            return False
    return True


# ---------------------------------------------------------------- running

class Run:
    """One `nestlab run`: status (None on timeout), out (stdout), err."""
    def __init__(self, cmd, status, out, err):
        self.cmd, self.status, self.out, self.err = cmd, status, out, err
        self.lines = [l.rstrip("\r") for l in out.split("\n") if l.strip()]

    def has(self, rx):
        return any(re.search(rx, l) for l in self.lines)

    def guest_lines(self):
        return [l for l in self.lines if not l.startswith("nesthv:")]

    def describe(self):
        if self.status is None:
            st = "timed out"
        else:
            st = f"exit status {self.status}"
            if self.status in NESTLAB_STATUS:
                st += f" ({NESTLAB_STATUS[self.status]})"
            elif 0x10 < self.status <= 0x1e:
                st += f" (nesthv: the guest shut down with status {self.status - 0x10})"
        return f"`{' '.join(self.cmd)}`: {st}"


# nestlab run's own exit statuses (README.md), and nesthv's exit values
# (hypervisor/include/hv.h: 0x10 + s the guest shut down with status s).
NESTLAB_STATUS = {
    0x10: "nesthv: the guest shut down with status 0",
    0x20: "nesthv: the guest crashed",
    0x30: "nesthv: configuration error",
    0x31: "nesthv: PANIC",
    65: "nestlab: bad image",
    66: "nestlab: emulator error",
    68: "nestlab: --max-insns reached: the machine ran too long, a hang or a livelock?",
    69: "nestlab: HLT with nothing left to wake it",
    70: "nestlab: triple fault",
}


class Context:
    """What a check sees: the images it may boot and a cached runner."""
    def __init__(self, tree, build_dir, nestlab, verbose):
        self.tree, self.build, self.nestlab, self.verbose = tree, build_dir, nestlab, verbose
        self.images = os.path.join(build_dir, "images")
        self.cache = {}

    def image(self, name):
        return os.path.join(self.images, name)

    def run(self, image, modules=(), append=None, max_insns=500_000_000, timeout=150):
        """nestlab run --cpu novt IMAGE MODULES: one run per argument list."""
        key = (image, tuple(modules), append)
        if key in self.cache:
            return self.cache[key]
        cmd = [self.nestlab, "run", "--cpu", "novt", "--mem", "128",
               "--max-insns", str(max_insns)]
        if append:
            cmd += ["--append", append]
        cmd += [self.image(image)] + [self.image(m) for m in modules]
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout)
            run = Run(cmd, r.returncode, r.stdout.decode("utf-8", "replace"),
                      r.stderr.decode("utf-8", "replace"))
        except subprocess.TimeoutExpired as e:
            run = Run(cmd, None, (e.stdout or b"").decode("utf-8", "replace"),
                      (e.stderr or b"").decode("utf-8", "replace"))
        if self.verbose:
            print(f"    $ {' '.join(cmd)}  -> {run.status}")
            for l in run.lines:
                print("    | " + l)
        self.cache[key] = run
        return run


class Check:
    """One graded check.  fn(ctx) returns None when it passes, else a string
    saying what went wrong; the hint says what to do about it.  A baseline
    check (the image builds, the machine boots) may pass on the handout; all
    other checks must fail there (labs/selftest proves it)."""
    def __init__(self, name, fn, hint, baseline=False):
        self.name, self.fn, self.hint, self.baseline = name, fn, hint, baseline


def expect_lines(run, patterns):
    """None if every regex matches some line, in order; else what is missing."""
    pos = 0
    for rx in patterns:
        r = re.compile(rx)
        while pos < len(run.lines) and not r.search(run.lines[pos]):
            pos += 1
        if pos == len(run.lines):
            last = run.lines[-1] if run.lines else "(no output)"
            return f"no line matching /{rx}/ (in order) in {run.describe()}; last line: {last!r}"
        pos += 1
    return None


# ---------------------------------------------------------------- nesthv runs

NESTHV_OK = 0x10            # nesthv's exit value: the guest shut down with status 0
INVARIANT = r"page-table invariant holds"


def hostile_case(case, *patterns):
    """A check: nesthv with the hostile PV guest (pv/hostile/hostile.c) running
    one case; the patterns must match in order, then the case's own verdict
    ("NAME: all refused" or "NAME: all checks passed"), a clean shutdown and
    nesthv's final integrity check."""
    def check(ctx):
        r = ctx.run("nesthv.elf", [f"hostile.elf case={case}"], max_insns=250_000_000)
        why = expect_lines(r, list(patterns) +
                           [rf"hostile: {case}: all (refused|checks passed)", INVARIANT])
        if why:
            return why
        if r.status != NESTHV_OK:
            return f"{r.describe()}, expected {NESTHV_OK} (the guest shut down with status 0)"
        return None
    return check


def guest_pv_run(ctx):
    """nesthv running the teaching guest paravirtualized."""
    return ctx.run("nesthv.elf", ["guest.elf"], max_insns=150_000_000)
