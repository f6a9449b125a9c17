// embedding.wgsl: the input embeddings (HRM_SPEC §4.1) and their gradients.
// CPU twin: hrm::backend::cpu::embedding; test: tests/gpu_ops.rs (embedding_*). Dispatch:
// backend/gpu/embedding.rs.
//   gather       out[map(r)] = table[ids[r]]         token rows land after the P puzzle rows of each example
//   place_puzzle out[b*T + q] = pe[b] zero-padded to P*h, row q of P
//   take_rows    out[r] = src[r*stride + offset]     e.g. zH[:, 0] for the Q head
//   index_add    dst[v] = beta*dst[v] + alpha * sum_{r: ids[r] = v} src[map(r)]   (embedding backward,
//                SignSGD's per-id aggregation); deterministic: each (v, c) loops over the rows itself.
//   puzzle_grad  dpe[b, k] = alpha * src[b*T + k / h, k % h]
//   finish       the sqrt(h) scale, with learned positions mixed in first
//   add_rows     dst[r*stride + offset] += alpha * src[r]
// map(r) = (r / S) * T + P + r % S maps token r of a [B, S] grid to its row of the [B, T] sequence.

struct Params {
    rows: u32,      // ids / rows to move
    cols: u32,      // h
    s_in: u32,      // S (ids per example)
    t_out: u32,     // T (rows per example in the sequence)
    offset: u32,    // P, or the take_rows offset
    nv: u32,        // rows of the table / dst (index_add), pe width ndim (place_puzzle, puzzle_grad)
    alpha: f32,
    beta: f32,
    nx: u32,
    stride: u32,
    _p0: u32,
    _p1: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

fn flat(wg: vec3<u32>, lid: vec3<u32>) -> u32 { return (wg.y * p.nx + wg.x) * 256u + lid.x; }
fn seq_row(r: u32) -> u32 { return (r / p.s_in) * p.t_out + p.offset + r % p.s_in; }

@compute @workgroup_size(256)
fn gather(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);
    if (i >= p.rows * p.cols) { return; }
    let r = i / p.cols;
    let c = i % p.cols;
    let id = ids[r];
    var v = 0.0;
    if (id < p.nv) { v = src[id * p.cols + c]; }   // ids are range-checked on the host
    dst[seq_row(r) * p.cols + c] = v;
}

@compute @workgroup_size(256)
fn place_puzzle(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);                      // over B * P * h
    let per = p.offset * p.cols;                // P * h
    if (i >= p.rows * per) { return; }
    let b = i / per;
    let k = i % per;
    var v = 0.0;
    if (k < p.nv) { v = src[b * p.nv + k]; }
    dst[(b * p.t_out + k / p.cols) * p.cols + k % p.cols] = v;
}

@compute @workgroup_size(256)
fn take_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);
    if (i >= p.rows * p.cols) { return; }
    let r = i / p.cols;
    let c = i % p.cols;
    dst[i] = src[(r * p.stride + p.offset) * p.cols + c];
}

@compute @workgroup_size(256)
fn index_add(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);                      // over nv * cols
    if (i >= p.nv * p.cols) { return; }
    let v = i / p.cols;
    let c = i % p.cols;
    var acc = 0.0;
    for (var r = 0u; r < p.rows; r++) {
        if (ids[r] == v) { acc += src[seq_row(r) * p.cols + c]; }
    }
    var out = p.alpha * acc;
    if (p.beta != 0.0) { out += p.beta * dst[i]; }
    dst[i] = out;
}

@compute @workgroup_size(256)
fn puzzle_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);                      // over B * ndim
    if (i >= p.rows * p.nv) { return; }
    let b = i / p.nv;
    let k = i % p.nv;
    dst[i] = p.alpha * src[(b * p.t_out + k / p.cols) * p.cols + k % p.cols];
}

// dst[i] = alpha * dst[i], or alpha * (beta * (dst[i] + pos[i % (T*h)])) with learned positions
// (src = pos [T, h], beta = 0.707106781, the official mixing constant): the last step of the embedding.
@compute @workgroup_size(256)
fn finish(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);
    if (i >= p.rows * p.cols) { return; }
    dst[i] = p.alpha * (p.beta * (dst[i] + src[i % (p.t_out * p.cols)]));
}

// dst rows r * stride + offset += alpha * src[r]   (the Q head's gradient into position 0 of dz)
@compute @workgroup_size(256)
fn add_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = flat(wg, lid);
    if (i >= p.rows * p.cols) { return; }
    let r = i / p.cols;
    let c = i % p.cols;
    let d = (r * p.stride + p.offset) * p.cols + c;
    dst[d] = dst[d] + p.alpha * src[i];
}
