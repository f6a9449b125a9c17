// matmul.wgsl: C = alpha * op(A) @ op(B) + beta * C, tiled 64x64x16, 4x4 outputs per invocation.
// CPU twin: hrm::backend::cpu::matmul; test: tests/gpu_matmul.rs. Dispatch: backend/gpu/matmul.rs.
//
// op(A) is [M, K]: A stored [M, K] (TRANS_A = false) or [K, M] (true). op(B) is [K, N]: B stored
// [K, N] (TRANS_B = false) or [N, K] (true). The three products of a linear layer y = x W^T:
//   forward  y  = x @ W^T     TRANS_B          dx = dy @ W       (plain)
//   weight   dW (+)= dy^T @ x TRANS_A, beta = 1 to accumulate over calls
// Workgroup storage: 2 tiles of 16 x 64 f32 = 8 KiB; 256 invocations.

override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct Params {
    m: u32, n: u32, k: u32,
    a_off: u32, b_off: u32, c_off: u32,   // element offsets into the buffers
    alpha: f32, beta: f32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(1) @binding(0) var<uniform> p: Params;

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 16u;

var<workgroup> a_tile: array<f32, 1024>;   // [BK][BM]
var<workgroup> b_tile: array<f32, 1024>;   // [BK][BN]

fn load_a(m: u32, k: u32) -> f32 {
    if (m >= p.m || k >= p.k) { return 0.0; }
    if (TRANS_A) { return a[p.a_off + k * p.m + m]; }
    return a[p.a_off + m * p.k + k];
}

fn load_b(k: u32, n: u32) -> f32 {
    if (k >= p.k || n >= p.n) { return 0.0; }
    if (TRANS_B) { return b[p.b_off + n * p.k + k]; }
    return b[p.b_off + k * p.n + n];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
    let m0 = wg.y * BM;
    let n0 = wg.x * BN;
    var acc: array<f32, 16>;
    for (var k0 = 0u; k0 < p.k; k0 += BK) {
        // Each invocation loads 4 elements of each tile; consecutive invocations read consecutive
        // addresses of the stored layout.
        for (var i = 0u; i < 4u; i++) {
            let l = tid + i * 256u;
            var am: u32; var ak: u32;
            if (TRANS_A) { ak = l / BM; am = l % BM; } else { am = l / BK; ak = l % BK; }
            a_tile[ak * BM + am] = load_a(m0 + am, k0 + ak);
            var bk: u32; var bn: u32;
            if (TRANS_B) { bn = l / BK; bk = l % BK; } else { bk = l / BN; bn = l % BN; }
            b_tile[bk * BN + bn] = load_b(k0 + bk, n0 + bn);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            var ar: array<f32, 4>;
            var br: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                ar[i] = a_tile[kk * BM + lid.y + 16u * i];
                br[i] = b_tile[kk * BN + lid.x + 16u * i];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] = fma(ar[i], br[j], acc[i * 4u + j]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let m = m0 + lid.y + 16u * i;
        if (m >= p.m) { continue; }
        for (var j = 0u; j < 4u; j++) {
            let n = n0 + lid.x + 16u * j;
            if (n >= p.n) { continue; }
            let idx = p.c_off + m * p.n + n;
            var v = p.alpha * acc[i * 4u + j];
            if (p.beta != 0.0) { v += p.beta * c[idx]; }
            c[idx] = v;
        }
    }
}
