import sharp from 'sharp';
const [file, ...rest] = process.argv.slice(2);
for (let i = 0; i < 4; i++) await sharp(file).extract({ left: 0, top: i * 1500, width: 1400, height: 1500 }).toFile(file.replace('.png', `-${i}.png`));
