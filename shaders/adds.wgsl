// adds.wgsl: residual and injection adds, gradient accumulation, the carry reset.
// CPU twin: hrm::backend::cpu::adds; test: tests/gpu_ops.rs (adds_*). Dispatch: backend/gpu/adds.rs.
// One invocation per element; the flat index is rebuilt from a 2-d grid of 256-wide workgroups.
// Entry points bind different subsets of the bindings below.

struct Params { n: u32, nx: u32, alpha: f32, cols: u32, row_len: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> flags: array<u32>;
@group(1) @binding(0) var<uniform> p: Params;

fn flat(wg: vec3<u32>, lid: vec3<u32>) -> u32 {
    return (wg.y * p.nx + wg.x) * 256u + lid.x;
}

// out = a + alpha * b   (alpha = 1: residual / injection add; alpha = -1: a difference)
@compute @workgroup_size(256)
fn add(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);
    if (i < p.n) { out[i] = a[i] + p.alpha * b[i]; }
}

// out += alpha * a   (gradient accumulation)
@compute @workgroup_size(256)
fn axpy(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);
    if (i < p.n) { out[i] = out[i] + p.alpha * a[i]; }
}

// out = alpha
@compute @workgroup_size(256)
fn fill(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);
    if (i < p.n) { out[i] = p.alpha; }
}

// out *= alpha
@compute @workgroup_size(256)
fn scale(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);
    if (i < p.n) { out[i] = p.alpha * out[i]; }
}

// out[i] = a[i % cols] in every row (row_len elements) whose flag is nonzero; other rows keep their
// values. The ACT carry reset: z = where(halted[b], init, z) with init [h] broadcast over positions.
@compute @workgroup_size(256)
fn reset_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);
    if (i >= p.n) { return; }
    if (flags[i / p.row_len] != 0u) { out[i] = a[i % p.cols]; }
}

// out[i] += a[i % cols]   (a bias [cols] broadcast over rows: the Q head's bias)
@compute @workgroup_size(256)
fn add_bias(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);
    if (i < p.n) { out[i] = out[i] + a[i % p.cols]; }
}
