/**
 * Rank discovery (launcher/discover.ts), Slurm's host lists
 * (launcher/hostlist.ts), and the single-rank flags as egida-run parses them
 * (--discover, --port, --host, --shared-dir, --tls-*).
 */
import { describe, expect, it } from "vitest";
import { parseCli, type CliEnv } from "../src/launcher/cli.js";
import { discover, type DiscoverInput } from "../src/launcher/discover.js";
import { expandHostlist, HostlistError, MAX_HOSTS } from "../src/launcher/hostlist.js";
import type { SingleRankOptions } from "../src/launcher/options.js";

describe("expandHostlist (Slurm's compressed node lists)", () => {
  it.each<[string, string[]]>([
    ["node0", ["node0"]],
    ["node[0-3,7]", ["node0", "node1", "node2", "node3", "node7"]],
    ["a[01-03],b5", ["a01", "a02", "a03", "b5"]],
    ["n[08-11]", ["n08", "n09", "n10", "n11"]],
    ["n[8-11]", ["n8", "n9", "n10", "n11"]],
    ["n[098-101]", ["n098", "n099", "n100", "n101"]],
    ["rack[1-2]-n[1-2]", ["rack1-n1", "rack1-n2", "rack2-n1", "rack2-n2"]],
    ["gpu[1,3]x", ["gpu1x", "gpu3x"]],
    ["a,b,c", ["a", "b", "c"]],
    ["cn[5],cn[2-3]", ["cn5", "cn2", "cn3"]],
    ["n[0]", ["n0"]],
    [" node[1-2] ", ["node1", "node2"]],
    ["host.example.org,x[1-2].example.org", ["host.example.org", "x1.example.org", "x2.example.org"]],
  ])("%s", (text, want) => {
    expect(expandHostlist(text)).toEqual(want);
  });

  it.each<[string, RegExp]>([
    ["", /empty/],
    ["node[0-3", /"\[" is not closed/],
    ["node0-3]", /"\]" without "\["/],
    ["n[[1]]", /nested/],
    ["n[3-1]", /runs backwards/],
    ["n[a-b]", /holds "a-b", expected a number or a range/],
    ["n[1-]", /expected a number or a range/],
    ["n[]", /expected a number or a range/],
    ["a,,b", /empty entry/],
    ["a,", /empty entry/],
    ["a b", /white space/],
    ["n[0-99999999]", /more than/],
    ["n[0-1023]x[0-1023]y[0-1]", /more than/],
  ])("refuses %j", (text, message) => {
    expect(() => expandHostlist(text)).toThrow(HostlistError);
    expect(() => expandHostlist(text)).toThrow(message);
  });

  it("bounds the expansion at MAX_HOSTS", () => {
    expect(expandHostlist(`n[1-${MAX_HOSTS}]`)).toHaveLength(MAX_HOSTS);
  });
});

const base = (kind: DiscoverInput["kind"], env: Record<string, string>, more: Partial<DiscoverInput> = {}): DiscoverInput => ({ kind, port: 7000, env, hostname: "box", ...more });

describe("discover slurm", () => {
  it("rank from SLURM_PROCID, size from SLURM_NTASKS, peers from the expanded node list, all on --port", () => {
    const d = discover(base("slurm", { SLURM_PROCID: "2", SLURM_NTASKS: "4", SLURM_JOB_NODELIST: "node[0-2,7]", SLURM_JOB_ID: "99" }));
    expect(d).toEqual({
      rank: 2,
      peers: ["node0", "node1", "node2", "node7"].map((host) => ({ host, port: 7000 })),
      source: "Slurm job 99, nodes node[0-2,7]",
    });
  });

  it("inside srun, the step's node list wins over the job's", () => {
    const d = discover(base("slurm", { SLURM_PROCID: "0", SLURM_NTASKS: "2", SLURM_JOB_NODELIST: "n[0-3]", SLURM_STEP_NODELIST: "n[2-3]" }));
    expect(typeof d === "string" ? d : d.peers.map((p) => p.host)).toEqual(["n2", "n3"]);
  });

  it.each<[string, Record<string, string>, Partial<DiscoverInput>, RegExp]>([
    ["no SLURM_PROCID", { SLURM_NTASKS: "2", SLURM_JOB_NODELIST: "n[0-1]" }, {}, /SLURM_PROCID is not set: run it under srun/],
    ["a bad SLURM_PROCID", { SLURM_PROCID: "x", SLURM_NTASKS: "2", SLURM_JOB_NODELIST: "n[0-1]" }, {}, /SLURM_PROCID="x" is not an integer/],
    ["no SLURM_NTASKS", { SLURM_PROCID: "0", SLURM_JOB_NODELIST: "n[0-1]" }, {}, /SLURM_NTASKS is not set/],
    ["rank beyond size", { SLURM_PROCID: "2", SLURM_NTASKS: "2", SLURM_JOB_NODELIST: "n[0-1]" }, {}, /SLURM_PROCID=2 is not below SLURM_NTASKS=2/],
    ["no node list", { SLURM_PROCID: "0", SLURM_NTASKS: "2" }, {}, /SLURM_JOB_NODELIST is not set/],
    ["a malformed node list", { SLURM_PROCID: "0", SLURM_NTASKS: "2", SLURM_JOB_NODELIST: "n[0-1" }, {}, /SLURM_JOB_NODELIST: host list "n\[0-1": "\[" is not closed/],
    ["two tasks per node", { SLURM_PROCID: "0", SLURM_NTASKS: "4", SLURM_JOB_NODELIST: "n[0-1]" }, {}, /names 2 nodes; .*--ntasks-per-node=1/],
    ["-n disagreeing", { SLURM_PROCID: "0", SLURM_NTASKS: "2", SLURM_JOB_NODELIST: "n[0-1]" }, { size: 3 }, /-n 3 disagrees with SLURM_NTASKS=2/],
  ])("%s: one line naming the variable", (_what, env, more, message) => {
    const d = discover(base("slurm", env, more));
    expect(d).toMatch(message);
    expect(d).toMatch(/^--discover slurm: /);
  });
});

describe("discover kubernetes", () => {
  it("rank from JOB_COMPLETION_INDEX, job from the pod's host name, peers <job>-<i>.<service>", () => {
    const d = discover(base("kubernetes", { JOB_COMPLETION_INDEX: "1", HOSTNAME: "jacobi-1", EGIDA_SIZE: "3", EGIDA_K8S_SERVICE: "egida" }));
    expect(d).toEqual({
      rank: 1,
      peers: [0, 1, 2].map((i) => ({ host: `jacobi-${i}.egida`, port: 7000 })),
      source: "Kubernetes Indexed Job jacobi, Service egida",
    });
  });

  it("flags win over env: -n, --k8s-job, --k8s-service", () => {
    const d = discover(base("kubernetes", { JOB_COMPLETION_INDEX: "0", EGIDA_SIZE: "9", EGIDA_K8S_JOB: "envjob", EGIDA_K8S_SERVICE: "envsvc" }, { size: 2, k8sJob: "j", k8sService: "s" }));
    expect(typeof d === "string" ? d : d.peers.map((p) => p.host)).toEqual(["j-0.s", "j-1.s"]);
  });

  it("the host name from os.hostname() when HOSTNAME is unset", () => {
    const d = discover(base("kubernetes", { JOB_COMPLETION_INDEX: "0", EGIDA_SIZE: "1", EGIDA_K8S_SERVICE: "svc" }, { hostname: "my-job-0" }));
    expect(typeof d === "string" ? d : d.peers).toEqual([{ host: "my-job-0.svc", port: 7000 }]);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ["no index", { EGIDA_SIZE: "2", EGIDA_K8S_SERVICE: "s", HOSTNAME: "j-0" }, /JOB_COMPLETION_INDEX is not set: .*Indexed Job/],
    ["no size", { JOB_COMPLETION_INDEX: "0", EGIDA_K8S_SERVICE: "s", HOSTNAME: "j-0" }, /EGIDA_SIZE is not set: give the job size with -n N or env EGIDA_SIZE/],
    ["index beyond size", { JOB_COMPLETION_INDEX: "2", EGIDA_SIZE: "2", EGIDA_K8S_SERVICE: "s", HOSTNAME: "j-2" }, /JOB_COMPLETION_INDEX=2 is not below the job size 2/],
    ["no service", { JOB_COMPLETION_INDEX: "0", EGIDA_SIZE: "2", HOSTNAME: "j-0" }, /--k8s-service NAME or env EGIDA_K8S_SERVICE/],
    ["a host name without the index", { JOB_COMPLETION_INDEX: "1", EGIDA_SIZE: "2", EGIDA_K8S_SERVICE: "s", HOSTNAME: "laptop" }, /"laptop" does not end in -1 .*--k8s-job NAME/],
    ["a job name that is no DNS label", { JOB_COMPLETION_INDEX: "0", EGIDA_SIZE: "2", EGIDA_K8S_SERVICE: "s", EGIDA_K8S_JOB: "My_Job" }, /"My_Job" .* is not a DNS label/],
  ])("%s: one line naming the variable", (_what, env, message) => {
    const d = discover(base("kubernetes", env));
    expect(d).toMatch(message);
    expect(d).toMatch(/^--discover kubernetes: /);
  });
});

describe("egida-run's single-rank flags", () => {
  const env: CliEnv = { env: { SLURM_PROCID: "1", SLURM_NTASKS: "3", SLURM_JOB_NODELIST: "c[1-3]", SLURM_JOB_ID: "7" }, hostname: "c2" };
  const parse = (argv: string[], e: CliEnv = env): { options?: SingleRankOptions; code?: number; err: string } => {
    let err = "";
    const r = parseCli(argv, (s) => (err += s), e);
    return r.kind === "run" ? { options: r.options as SingleRankOptions, err } : { code: r.code, err };
  };

  it("--discover slurm: rank, peers and a listen address on every interface", () => {
    const { options } = parse(["--discover", "slurm", "--port", "7400", "--protocol", "none", "app.mjs"]);
    expect(options).toMatchObject({ mode: "single", rank: 1, bindHost: "0.0.0.0", discovered: "Slurm job 7, nodes c[1-3]" });
    expect(options?.peers).toEqual(["c1", "c2", "c3"].map((host) => ({ host, port: 7400 })));
  });

  it("--host sets the listen address, with --discover and with --peers; without it --peers' own entry is used", () => {
    expect(parse(["--discover", "slurm", "--port", "7400", "--host", "10.0.0.2", "--protocol", "none", "a.mjs"]).options?.bindHost).toBe("10.0.0.2");
    expect(parse(["--rank", "1", "--peers", "a:1,b:2", "--host", "0.0.0.0", "--protocol", "none", "a.mjs"]).options?.bindHost).toBe("0.0.0.0");
    expect(parse(["--rank", "1", "--peers", "a:1,b:2", "--protocol", "none", "a.mjs"]).options?.bindHost).toBe("b");
  });

  it("--shared-dir and the TLS files reach the options", () => {
    const { options } = parse(["--rank", "0", "--peers", "a:1,b:2", "--shared-dir", "/mnt/nfs", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca", "ca.pem", "--protocol", "none", "a.mjs"]);
    expect(options).toMatchObject({ sharedDir: "/mnt/nfs", tls: { cert: "c.pem", key: "k.pem", ca: "ca.pem" } });
  });

  it("--shared-dir is also the launcher's", () => {
    let err = "";
    const r = parseCli(["-n", "2", "--shared-dir", "/mnt/nfs", "--protocol", "none", "a.mjs"], (s) => (err += s), env);
    expect(r.kind === "run" && r.options.sharedDir, err).toBe("/mnt/nfs");
  });

  it.each<[string, string[], RegExp]>([
    ["--discover without --port", ["--discover", "slurm"], /--discover slurm needs --port P/],
    ["--discover with --rank", ["--discover", "slurm", "--port", "1", "--rank", "0"], /drop --rank and --peers/],
    ["--port without --discover", ["--rank", "0", "--peers", "a:1", "--port", "5"], /go with --discover/],
    ["--k8s-service with slurm", ["--discover", "slurm", "--port", "1", "--k8s-service", "s"], /go with --discover kubernetes/],
    ["a port out of range", ["--discover", "slurm", "--port", "70000"], /--port must be an integer in 1\.\.65535/],
    ["an unknown scheduler", ["--discover", "pbs", "--port", "1"], /Allowed choices are kubernetes, slurm/],
    ["half the TLS flags", ["--rank", "0", "--peers", "a:1", "--tls-cert", "c"], /TLS needs all of .*missing --tls-key and --tls-ca/],
    ["TLS under the launcher", ["-n", "2", "--tls-cert", "c", "--tls-key", "k", "--tls-ca", "a"], /use them in single-rank mode/],
    ["--shared-dir with --sim", ["-n", "2", "--sim", "--shared-dir", "d"], /--shared-dir has no effect with --sim/],
    ["--sim with --discover", ["--discover", "slurm", "--port", "1", "--sim"], /cannot be combined with single-rank mode/],
    ["the environment missing", ["--discover", "kubernetes", "--port", "1"], /--discover kubernetes: JOB_COMPLETION_INDEX is not set/],
  ])("%s: a usage error (exit 2), no stack", (_what, argv, message) => {
    const r = parse([...argv, "--protocol", "none", "a.mjs"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
