import { UserError } from '@food/core/errors';

export class UnsupportedModelError extends UserError {
  override name = 'UnsupportedModelError';
  constructor(message: string) {
    super(
      `${message}. The ONNX exporter handles the layers of the ResNet-50 this project trains ` +
        '(ZeroPadding2D, Conv2D, BatchNormalization after a Conv2D, Activation, MaxPooling2D, Add, ' +
        'GlobalAveragePooling2D, Dropout, Dense).',
      'ONNX_UNSUPPORTED_MODEL',
    );
  }
}
