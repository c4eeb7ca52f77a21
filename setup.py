from pathlib import Path

from setuptools import find_packages, setup

about = {}
exec(Path("blox_gym/_version.py").read_text(), about)

setup(
    name="blox-gym",
    version=about["__version__"],
    description="The Blox macro NAS benchmark as a Zarr table, Gymnasium environments, "
                "accuracy predictors and NAS agents",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    packages=find_packages(include=["blox_gym", "blox_gym.*", "predictors", "predictors.*",
                                    "agents", "agents.*"]),
    package_data={"blox_gym": ["py.typed"]},
    install_requires=[
        "numpy>=1.26",
        "scipy>=1.11",
        "zarr>=3.0.8",
        "fsspec>=2024.2",
        "pyyaml>=6.0",
        "tqdm>=4.64",
        "pandas>=2.1",
        "pyarrow>=15",
        "matplotlib>=3.8",
        "torch>=2.2",
        "torch-geometric>=2.5",
        "gymnasium>=1.1",  # AutoresetMode; tested with 1.4
        "stable-baselines3>=2.4",
        "sb3-contrib>=2.4",
    ],
    extras_require={
        # ray: the runner's Ray backend is tested against the local one on a local instance
        # syne-tune: its blackbox module imports huggingface_hub, which it does not require
        "test": ["pytest>=8", "hypothesis>=6.90", "mypy>=1.8", "ptflops>=0.7", "ray>=2.9",
                 "syne-tune>=0.16,<0.17", "huggingface_hub>=0.20", "kornia>=0.7",
                 "onnxruntime>=1.17", "onnx>=1.15", "xarray>=2024.1"],
        # train: the measurement pipeline's device-side augmentation (blox_gym.augment)
        "train": ["kornia>=0.7"],
        "ray": ["ray[default]>=2.9"],
        "latency": ["onnxruntime>=1.17", "onnx>=1.15"],
        "data": ["xarray>=2024.1"],  # Table.to_xarray, xarray.open_zarr on a store
        "syne-tune": ["syne-tune>=0.16,<0.17", "huggingface_hub>=0.20"],
    },
    entry_points={"console_scripts": ["blox-gym=blox_gym.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3.11",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
