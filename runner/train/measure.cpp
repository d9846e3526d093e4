#include "runner/train/measure.h"

#include <c10/core/CachingDeviceAllocator.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <fstream>

namespace ftbench::train {

void sync_compute_stream(at::Device device) {
  if (!device.is_cuda()) return;
  const c10::impl::VirtualGuardImpl impl(device.type());
  impl.getStream(device).synchronize();
}

void reset_peak_memory(at::Device device) {
  if (device.is_cuda()) {
    c10::getDeviceAllocator(device.type())->resetPeakStats(device.index());
    return;
  }
  std::ofstream("/proc/self/clear_refs") << "5";
}

int64_t peak_memory_bytes(at::Device device) {
  if (device.is_cuda()) {
    const auto stats = c10::getDeviceAllocator(device.type())->getDeviceStats(device.index());
    return stats.allocated_bytes[static_cast<std::size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
  }
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:   123456 kB"
  }
  return 0;
}

std::string describe_device(const std::string& device_name) {
  if (device_name != "cpu") return device_name;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      const std::string model = line.substr(line.find(':') + 1);
      return "cpu (" + model.substr(model.find_first_not_of(' ')) + ")";
    }
  }
  return "cpu";
}

}  // namespace ftbench::train
