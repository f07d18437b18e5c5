{
  "variables": {
    "cowpool_sources": [
      "native/addon.cc",
      "native/dirty_restore.cc",
      "native/errors.cc",
      "native/image.cc",
      "native/memory_binding.cc",
      "native/page_scan.cc",
      "native/range_ops.cc",
      "native/raw_slot.cc",
      "native/reset_calibration.cc",
      "native/reset_features.cc",
      "native/sys.cc",
      "native/thread_faults.cc",
      "native/write_tracking.cc"
    ]
  },
  "target_defaults": {
    "sources": ["<@(cowpool_sources)"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"]
  },
  "targets": [
    { "target_name": "cowpool" },
    { "target_name": "cowpool_test", "defines": ["COWPOOL_TEST_HOOKS"] }
  ]
}
