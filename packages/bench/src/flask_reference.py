"""The reference server for `pnpm bench:serve` (a reference only, never part of the product).

What the reference project served: a Flask app holding a PyTorch ResNet-50, one image per request.
`POST /api/predict` takes the multipart field `image`, decodes it with PIL, resizes the shorter side,
centre-crops, normalises, runs the model in eval mode under torch.no_grad() and answers the softmax's
top 5 as JSON. Flask's threaded development server (`app.run(threaded=True)`), as the reference ran it,
with its request log on stderr; torch uses every core for each forward.

The network is torchvision's resnet50 when torchvision is importable and the shape is the full one,
else the hand-written ResNet-50 v1 of pytorch_resnet50.py (our network, the same layers); random weights
(seeded): a dense CNN does the same work whatever the values.

    /usr/bin/python3 flask_reference.py --port 8123 --labels apple_pie,ramen --threads 2

`GET /api/ready` answers once the model is built, naming it. The server exits when its standard input
closes, so it does not outlive the bench that started it, however the bench ends.
"""
import argparse
import io
import os
import sys
import threading

import torch
import torch.nn.functional as F
from flask import Flask, jsonify, request
from PIL import Image, UnidentifiedImageError

from pytorch_resnet50 import ResNet50

FULL_BLOCKS = [3, 4, 6, 3]


def build_model(num_classes, width, blocks):
    torch.manual_seed(0)
    if width == 1 and blocks == FULL_BLOCKS:
        try:
            from torchvision.models import resnet50

            return resnet50(num_classes=num_classes), "torchvision resnet50"
        except ImportError:
            pass
    return ResNet50(num_classes, width, tuple(blocks)), "pytorch_resnet50.py ResNet-50 v1"


def preprocess(image, args):
    """torchvision's Resize(shorter side) + CenterCrop + ToTensor + Normalize, on PIL as torchvision does."""
    image = image.convert("RGB")
    width, height = image.size
    # torchvision's Resize(int): the shorter side becomes `resize`, the longer one is truncated.
    if width <= height:
        size = (args.resize, int(args.resize * height / width))
    else:
        size = (int(args.resize * width / height), args.resize)
    image = image.resize(size, Image.BILINEAR)
    width, height = image.size
    left, top = int(round((width - args.crop) / 2.0)), int(round((height - args.crop) / 2.0))
    image = image.crop((left, top, left + args.crop, top + args.crop))
    pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    x = pixels.view(args.crop, args.crop, 3).permute(2, 0, 1).float().div(255)
    mean = torch.tensor(args.mean).view(3, 1, 1)
    std = torch.tensor(args.std).view(3, 1, 1)
    return ((x - mean) / std).unsqueeze(0)


def create_app(model, model_name, labels, args):
    app = Flask(__name__)

    @app.get("/api/ready")
    def ready():
        return jsonify(ready=True, model=model_name, torch=torch.__version__, threads=torch.get_num_threads())

    @app.post("/api/predict")
    def predict():
        upload = request.files.get("image")
        if upload is None:
            return jsonify(error="send the photo as the multipart field 'image'"), 400
        try:
            image = Image.open(io.BytesIO(upload.read()))
            x = preprocess(image, args)
        except (UnidentifiedImageError, OSError) as error:
            return jsonify(error=f"not a readable image: {error}"), 400
        with torch.no_grad():
            probabilities = F.softmax(model(x), dim=1)[0]
        top = torch.topk(probabilities, min(5, len(labels)))
        return jsonify(predictions=[
            {"label": labels[index], "probability": probability}
            for probability, index in zip(top.values.tolist(), top.indices.tolist())
        ])

    return app


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--labels", type=lambda s: s.split(","), required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--resize", type=int, default=256)
    parser.add_argument("--crop", type=int, default=224)
    floats = lambda s: [float(n) for n in s.split(",")]  # noqa: E731
    parser.add_argument("--mean", type=floats, default=[0.485, 0.456, 0.406])
    parser.add_argument("--std", type=floats, default=[0.229, 0.224, 0.225])
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--blocks", type=lambda s: [int(n) for n in s.split(",")], default=FULL_BLOCKS)
    args = parser.parse_args()
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    torch.set_num_threads(args.threads)
    model, model_name = build_model(len(args.labels), args.width, args.blocks)
    model.eval()
    create_app(model, model_name, args.labels, args).run(host="127.0.0.1", port=args.port, threaded=True)


if __name__ == "__main__":
    main()
