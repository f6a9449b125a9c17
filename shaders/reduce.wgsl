// reduce.wgsl: the reductions the model and the page need.
// CPU twin: hrm::backend::cpu::reduce (residual norms); test: tests/gpu_ops.rs (reduce_*). Dispatch:
// backend/gpu/reduce.rs.
//   diff_norm: out[r] = ||a_r - b_r||_2 over rows of `cols` (per example: ||z_new - z_old|| for the
//              page's per-step residual plots); one 256-invocation workgroup per row.
//   col_sum:   out[c] = beta * out[c] + alpha * sum_r x[r, c] (bias and position gradients); one
//              invocation per column.

struct Params { rows: u32, cols: u32, beta: f32, nx: u32, alpha: f32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

const WG: u32 = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn diff_norm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let r = wg.y * p.nx + wg.x;
    if (r >= p.rows) { return; }
    var s = 0.0;
    for (var c = t; c < p.cols; c += WG) {
        let d = a[r * p.cols + c] - b[r * p.cols + c];
        s = fma(d, d, s);
    }
    red[t] = s;
    workgroupBarrier();
    for (var k = WG / 2u; k > 0u; k = k / 2u) {
        if (t < k) { red[t] = red[t] + red[t + k]; }
        workgroupBarrier();
    }
    if (t == 0u) { out[r] = sqrt(red[0]); }
}

@compute @workgroup_size(256)
fn col_sum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let c = (wg.y * p.nx + wg.x) * 256u + lid.x;
    if (c >= p.cols) { return; }
    var s = 0.0;
    for (var r = 0u; r < p.rows; r++) { s += a[r * p.cols + c]; }
    var v = p.alpha * s;
    if (p.beta != 0.0) { v += p.beta * out[c]; }
    out[c] = v;
}
