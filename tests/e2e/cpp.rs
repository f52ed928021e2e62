//! C++ firmware shaped like TensorFlow Lite Micro + CMSIS-NN (`tests/firmware/tflm_like/`,
//! written for these tests): every operator's invoke function is a layer with its operator,
//! shown demangled everywhere (table, JSON with the symbol kept, folded stacks, Perfetto).

use crate::support::{boards, cpp_firmware, mcusim};

const OPS: [&str; 7] = [
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "CONV_2D",
    "AVERAGE_POOL_2D",
    "RESHAPE",
    "FULLY_CONNECTED",
    "SOFTMAX",
];

#[test]
fn tflite_micro_shaped_firmware_shows_operators_with_readable_names() {
    for board in boards() {
        let elf = cpp_firmware(&board, "tflm_like");
        let [json, folded, trace] = ["json", "folded", "trace.json"].map(|e| elf.with_extension(e));
        let run = mcusim([
            "profile".as_ref(),
            elf.as_os_str(),
            "--board".as_ref(),
            board.as_ref(),
            "--json".as_ref(),
            json.as_os_str(),
            "--folded".as_ref(),
            folded.as_os_str(),
            "--perfetto".as_ref(),
            trace.as_os_str(),
        ]);
        assert_eq!(run.status, 0, "{board}: {}", run.stderr);
        assert!(run.stdout.contains("tflm-like "), "{board}: {}", run.stdout);
        let p: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(p["attribution"], "calls", "{board}");
        let layers = p["layers"].as_array().unwrap();
        let ops: Vec<&str> = layers.iter().map(|l| l["op"].as_str().unwrap()).collect();
        assert_eq!(ops, OPS, "{board}");
        let conv = &layers[0];
        assert_eq!(
            conv["name"],
            "tflite::(anonymous namespace)::Eval(TfLiteContext*, TfLiteNode*) [conv.cpp]",
            "{board}"
        );
        assert_eq!(
            conv["symbol"],
            "_ZN6tflite12_GLOBAL__N_14EvalEP13TfLiteContextP10TfLiteNode"
        );
        assert_eq!(
            layers[4]["name"],
            "tflite::ops::micro::reshape::Eval(TfLiteContext*, TfLiteNode*)"
        );
        // The layers hold most of the run: the interpreter's Invoke holds them all.
        let total = p["totals"]["cycles"].as_f64().unwrap();
        let inside: f64 = layers.iter().map(|l| l["cycles"].as_f64().unwrap()).sum();
        assert!(inside / total > 0.85, "{board}: {inside} of {total}");
        let invoke = p["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "tflite::MicroInterpreter::Invoke()")
            .unwrap_or_else(|| panic!("{board}: no Invoke in {}", p["functions"]));
        assert_eq!(invoke["calls"], 1, "{board}");
        assert_eq!(invoke["symbol"], "_ZN6tflite16MicroInterpreter6InvokeEv");
        assert!(
            invoke["inclusive_cycles"].as_f64().unwrap() >= inside,
            "{board}"
        );
        assert!(
            invoke["source"].as_str().unwrap().contains("main.cpp:"),
            "{invoke}"
        );
        // Demangled in the exports as well.
        let folded = std::fs::read_to_string(&folded).unwrap();
        assert!(
            folded.contains("tflite::MicroInterpreter::Invoke();tflite::(anonymous namespace)::Eval(TfLiteContext*, TfLiteNode*) [conv.cpp];arm_convolve_s8 "),
            "{board}: {folded}"
        );
        assert!(!folded.contains("_ZN"), "{board}: {folded}");
        let trace = std::fs::read_to_string(&trace).unwrap();
        assert!(trace.contains("\"name\":\"tflite::(anonymous namespace)::AverageEval(TfLiteContext*, TfLiteNode*)\""), "{board}");
        // The table shows the operators and the names, abbreviated in the middle if long.
        assert!(
            run.stdout.contains("DEPTHWISE_CONV_2D  tflite::"),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains("[conv.cpp]"), "{}", run.stdout);
    }
}
