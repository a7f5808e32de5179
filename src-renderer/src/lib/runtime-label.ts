/**
 * What the status bar says about the model at work: a short line in plain words ("CPU · model v6",
 * "GPU (CUDA) · model v6") and the details for its tooltip. The one place that formats it.
 */
import { describeAccelerator } from '../../../src-main/engine/api/contract';
import type { Status } from './api-client';

/** ONNX Runtime execution providers, as a user would name the hardware. */
const DEVICES: Record<string, string> = {
  cpu: 'CPU',
  cuda: 'GPU (CUDA)',
  tensorrt: 'GPU (TensorRT)',
  rocm: 'GPU (ROCm)',
  dml: 'GPU (DirectML)',
  coreml: 'GPU (Core ML)',
  webgpu: 'GPU (WebGPU)',
  webnn: 'GPU (WebNN)',
};

export function deviceName(provider: string | null): string {
  if (!provider) return 'No runtime';
  return DEVICES[provider.toLowerCase()] ?? provider.toUpperCase();
}

export function runtimeLabel(s: Pick<Status, 'model' | 'provider' | 'accelerator' | 'head'>): {
  text: string;
  detail: string;
} {
  if (!s.model) return { text: 'Loading the model…', detail: 'The photo model is still loading.' };
  const device = deviceName(s.provider);
  const text = s.head ? `${device} · model v${s.head.version}` : device;
  const lines = [
    `Runs on: ${device}${s.provider ? ` (ONNX Runtime: ${describeAccelerator(s.provider, s.accelerator)})` : ''}`,
    `Network: ${s.model.name}, features from ${s.model.tap} (${s.model.dim} channels, ${s.model.inputSize} px input)`,
  ];
  if (s.head)
    lines.push(
      `Model v${s.head.version}: ${s.head.combo} descriptors, ${s.head.dim}-dimensional (new versions come from fine-tuning)`,
    );
  return { text, detail: lines.join('\n') };
}
