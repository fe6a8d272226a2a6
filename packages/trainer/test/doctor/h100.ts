import type { GpuInfo } from '../../src/doctor/nvidia-smi.ts';

/** One H100 as `nvidia-smi --query-gpu=... --format=csv,nounits` lists it, and as parseNvidiaSmiCsv reads it. */
export const H100_NOUNITS = `index, name, driver_version, memory.total [MiB], memory.free [MiB], compute_cap
0, NVIDIA H100 80GB HBM3, 550.54.15, 81559, 80589, 9.0
`;

export const H100: GpuInfo = {
  index: 0,
  name: 'NVIDIA H100 80GB HBM3',
  driverVersion: '550.54.15',
  memoryTotalMiB: 81_559,
  memoryFreeMiB: 80_589,
  computeCapability: '9.0',
};
