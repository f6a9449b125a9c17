//! Config parsing and the derived sizes of HRM_SPEC.md §1.
use hrm::{Config, ConfigError, PosEncoding};
use hrm_tests::fixtures;

fn visible() -> Config {
    let text = std::fs::read_to_string(fixtures().join("parity/visible/config.json")).unwrap();
    Config::from_json_str(&text).unwrap()
}

#[test]
fn visible_config_and_derived_sizes() {
    let c = visible();
    assert_eq!((c.hidden_size, c.num_heads, c.h_cycles, c.l_cycles), (64, 4, 2, 2));
    assert_eq!(c.pos_encodings, PosEncoding::Rope);
    assert_eq!(c.head_dim(), 16);
    assert_eq!(c.puzzle_emb_len(), 1);
    assert_eq!(c.total_seq(), 82);
    assert_eq!(c.swiglu_width(), 256);
    assert_eq!(c.embed_scale(), 8.0);
    assert_eq!(c.rms_norm_eps, 1e-5);
    assert_eq!(c.rope_theta, 10000.0);
}

#[test]
fn swiglu_width_examples_from_the_spec() {
    let mut c = visible();
    for (h, e, want) in [(64, 4.0, 256), (96, 2.5, 256), (32, 12.5, 512), (512, 4.0, 1536)] {
        c.hidden_size = h;
        c.expansion = e;
        assert_eq!(c.swiglu_width(), want, "h={h} e={e}");
    }
}

#[test]
fn puzzle_emb_len_rounds_up() {
    let mut c = visible();
    c.puzzle_emb_ndim = 0;
    assert_eq!(c.puzzle_emb_len(), 0);
    c.puzzle_emb_ndim = 65;
    assert_eq!(c.puzzle_emb_len(), 2);
    assert_eq!(c.total_seq(), 83);
}

#[test]
fn json_round_trip() {
    let mut c = visible();
    assert_eq!(Config::from_json_str(&c.to_json_string()).unwrap(), c);
    c.pos_encodings = PosEncoding::Rope2d;
    assert!(c.to_json_string().contains(r#""pos_encodings": "rope2d""#));
    assert_eq!(Config::from_json_str(&c.to_json_string()).unwrap(), c);
    // attn_radius (this project's extension) is written only when set, so an official config
    // round-trips to the official fields alone
    assert!(!c.to_json_string().contains("attn_radius"));
    c.attn_radius = 2;
    assert!(c.to_json_string().contains(r#""attn_radius": 2"#));
    assert_eq!(Config::from_json_str(&c.to_json_string()).unwrap(), c);
}

#[test]
fn yaml_arch_section_with_shapes_from_elsewhere() {
    let text = std::fs::read_to_string(fixtures().join("torch-checkpoint/all_config.yaml")).unwrap();
    let mut extra = serde_json::Map::new();
    extra.insert("vocab_size".into(), 11.into());
    extra.insert("seq_len".into(), 81.into());
    extra.insert("num_puzzle_identifiers".into(), 1.into());
    let c = Config::from_all_config_yaml(&text, &extra).unwrap();
    assert_eq!(c.batch_size, 768, "falls back to global_batch_size");
    let mut v = visible();
    v.batch_size = 768;
    v.forward_dtype = c.forward_dtype.clone();
    assert_eq!(c, v);
    // Without the dataset values the error names the first one missing.
    let err = Config::from_all_config_yaml(&text, &serde_json::Map::new()).unwrap_err();
    assert!(matches!(err, ConfigError::Missing(ref f) if f == "seq_len"), "{err}");
}

#[test]
fn errors_name_the_field() {
    let base: serde_json::Value = serde_json::from_str(&visible().to_json_string()).unwrap();
    let with = |k: &str, v: serde_json::Value| {
        let mut m = base.as_object().unwrap().clone();
        m.insert(k.into(), v);
        Config::from_json_str(&serde_json::Value::Object(m).to_string()).unwrap_err().to_string()
    };
    assert!(with("hidden_siz", 64.into()).contains("`hidden_siz`"));
    assert!(with("num_heads", 5.into()).contains("`num_heads`"));
    assert!(with("pos_encodings", "alibi".into()).contains("`pos_encodings`"));
    // rope2d needs a square grid (the visible config has 81 = 9x9) and head_dim a multiple of 4
    let rope2d = |k: &str, v: serde_json::Value| {
        let mut m = base.as_object().unwrap().clone();
        m.insert("pos_encodings".into(), "rope2d".into());
        m.insert(k.into(), v);
        Config::from_json_str(&serde_json::Value::Object(m).to_string())
    };
    assert_eq!(rope2d("seq_len", 81.into()).unwrap().grid_side(), Some(9));
    assert!(rope2d("seq_len", 80.into()).unwrap_err().to_string().contains("`seq_len` is 80, not a square grid"));
    assert!(rope2d("hidden_size", 40.into()).unwrap_err().to_string().contains("head_dim 10"));
    // so does a local attention window
    let local = |seq: u64| {
        let mut m = base.as_object().unwrap().clone();
        m.insert("attn_radius".into(), 1.into());
        m.insert("seq_len".into(), seq.into());
        Config::from_json_str(&serde_json::Value::Object(m).to_string())
    };
    assert_eq!(local(49).unwrap().attn_radius, 1);
    assert!(local(50).unwrap_err().to_string().contains("`seq_len` is 50, not a square grid, which attn_radius needs"));
    assert!(with("attn_radius", (-1).into()).contains("`attn_radius`"));
    assert!(with("hidden_size", (-1).into()).contains("`hidden_size`"));
    assert!(with("halt_exploration_prob", 2.0.into()).contains("`halt_exploration_prob`"));
    let mut m = base.as_object().unwrap().clone();
    m.remove("vocab_size");
    let err = Config::from_json_str(&serde_json::Value::Object(m).to_string()).unwrap_err();
    assert_eq!(err, ConfigError::Missing("vocab_size".into()));
    assert!(Config::from_json_str("[1,2]").unwrap_err().to_string().contains("object"));
}
