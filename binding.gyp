{
  "targets": [
    {
      "target_name": "tsvisor_kvm",
      "sources": ["kvm/addon.cc", "kvm/machine.cc", "kvm/vcpu.cc", "kvm/host.cc", "kvm/gofer_host.cc", "kvm/seqpacket.cc", "kvm/tsc.cc", "kvm/clock.cc", "kvm/fd_watch.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "libraries": ["-lpthread"]
    },
    {
      "target_name": "tsvisor-gofer",
      "type": "executable",
      "sources": ["kvm/gofer/main.cc", "kvm/gofer/server.cc", "kvm/gofer/confined.cc", "kvm/seqpacket.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"]
    }
  ]
}
