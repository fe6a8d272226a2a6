import { describe, expect, it } from 'vitest';
import { formatCount, modelTagline } from '../../public/model-tagline.js';

const card = {
  architecture: 'ResNet-50',
  parameters: 23_743_590,
  classes: Array.from({ length: 101 }, (_, i) => `class_${i}`),
  dataset: { name: 'food-101', synthetic: false },
  test: { accuracy: 0.862 },
};

describe('modelTagline (public/model-tagline.js: the web UI header)', () => {
  it('names the network the server runs and its size', () => {
    expect(modelTagline(card)).toBe(
      'ResNet-50 · 23.7 M parameters · 101 food classes · trained on food-101 · test top-1 86.2%',
    );
  });

  it('does not call a small synthetic demo model a ResNet-50 of food classes', () => {
    const demo = {
      architecture: 'ResNet-14, 1/8 width',
      parameters: 134_286,
      classes: ['apple_pie', 'baklava', 'sushi'],
      dataset: { name: 'synth', synthetic: true },
      test: null,
    };
    expect(modelTagline(demo)).toBe('ResNet-14, 1/8 width · 134 k parameters · 3 classes · trained on synth');
  });

  it('leaves out what the card does not know', () => {
    const unknown = { ...card, dataset: { name: null, synthetic: null }, test: { accuracy: null } };
    expect(modelTagline(unknown)).toBe('ResNet-50 · 23.7 M parameters · 101 food classes');
  });

  it('formats counts', () => {
    expect([formatCount(999), formatCount(134_286), formatCount(23_743_590)]).toEqual([
      '999',
      '134 k',
      '23.7 M',
    ]);
  });
});
