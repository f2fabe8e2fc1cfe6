// Spins one core until its parent process is gone, checking a few times a second, so a hog can
// never outlive the run that started it (even if that run was killed with SIGKILL).
// Usage: node hog.mjs PARENT_PID
const parentPid = Number(process.argv[2]);
for (;;) {
  const until = Date.now() + 200;
  while (Date.now() < until) {
    // busy: this is the load
  }
  let alive = process.ppid === parentPid;
  if (alive) {
    try {
      process.kill(parentPid, 0);
    } catch {
      alive = false;
    }
  }
  if (!alive) process.exit(0);
}
