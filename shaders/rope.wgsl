// rope.wgsl: half-split rotary embedding (HRM_SPEC §3, `rotate_half`), applied in place to the q and k
// heads of a packed qkv [B*T, 3*nh*d] (q heads, then k heads, then v heads; v is left alone):
//   x' = x * cos[t] + rotate_half(x) * sin[t],  rotate_half(x) = concat(-x[d/2:], x[:d/2]).
// cos/sin [T, d] are concat(freqs, freqs), so the backward is the same rotation with sin negated
// (SIGN = -1): dx = dy * cos - rotate_half(dy) * sin.
// CPU twin: hrm::backend::cpu::rope; test: tests/gpu_ops.rs (rope_*). Dispatch: backend/gpu/rope.rs.
// One invocation per (row, q/k head, pair j < d/2): it rotates x[j] with x[j + d/2].

struct Params { rows: u32, seq: u32, heads: u32, d: u32, sign: f32, nx: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> cos_t: array<f32>;
@group(0) @binding(2) var<storage, read> sin_t: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(256)
fn rotate(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let half = p.d / 2u;
    let i = (wg.y * p.nx + wg.x) * 256u + lid.x;
    let per_row = 2u * p.heads * half;          // q and k heads only
    if (i >= p.rows * per_row) { return; }
    let row = i / per_row;
    let rem = i % per_row;
    let head = rem / half;                      // 0..2nh: q heads then k heads
    let j = rem % half;
    let t = row % p.seq;
    let base = row * 3u * p.heads * p.d + head * p.d;
    let x1 = qkv[base + j];
    let x2 = qkv[base + j + half];
    let c1 = cos_t[t * p.d + j];
    let s1 = sin_t[t * p.d + j] * p.sign;
    let c2 = cos_t[t * p.d + j + half];
    let s2 = sin_t[t * p.d + j + half] * p.sign;
    qkv[base + j] = x1 * c1 - x2 * s1;
    qkv[base + j + half] = x2 * c2 + x1 * s2;
}
