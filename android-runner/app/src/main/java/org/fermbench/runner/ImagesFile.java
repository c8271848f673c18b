package org.fermbench.runner;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The classify input: "FERB", uint32 version 1, N, H, W (little-endian), then N*H*W uint8. */
final class ImagesFile {
    static final int HEADER = 20;
    final int count;
    final int height;
    final int width;
    final byte[] pixels;

    private ImagesFile(int count, int height, int width, byte[] pixels) {
        this.count = count;
        this.height = height;
        this.width = width;
        this.pixels = pixels;
    }

    /** Pixel j of image i, 0..255. */
    int pixel(int image, int j) {
        return pixels[HEADER + image * height * width + j] & 0xff;
    }

    static ImagesFile read(String path) throws RunnerFailure {
        File file = new File(path);
        if (!file.isFile()) {
            throw new RunnerFailure("input_missing", "images file " + path + " not found on the device: push it first");
        }
        long length = file.length();
        if (length > Integer.MAX_VALUE) {
            throw new RunnerFailure("input_invalid", "images file " + path + " is too large (" + length + " bytes)");
        }
        byte[] data = new byte[(int) length];
        try (RandomAccessFile in = new RandomAccessFile(file, "r")) {
            in.readFully(data);
        } catch (IOException e) {
            throw new RunnerFailure("input_missing", "cannot read images file " + path + ": " + e.getMessage());
        }
        return parse(data, path);
    }

    static ImagesFile parse(byte[] data, String name) throws RunnerFailure {
        if (data.length < HEADER) {
            throw new RunnerFailure("input_invalid", name + " is " + data.length + " bytes, shorter than its " + HEADER + "-byte header");
        }
        ByteBuffer header = ByteBuffer.wrap(data, 0, HEADER).order(ByteOrder.LITTLE_ENDIAN);
        if (data[0] != 'F' || data[1] != 'E' || data[2] != 'R' || data[3] != 'B') {
            throw new RunnerFailure("input_invalid", name + " does not start with FERB: write it with write_images_file");
        }
        long version = header.getInt(4) & 0xffffffffL;
        long n = header.getInt(8) & 0xffffffffL;
        long h = header.getInt(12) & 0xffffffffL;
        long w = header.getInt(16) & 0xffffffffL;
        if (version != 1) {
            throw new RunnerFailure("input_invalid", name + " has format version " + version + ", runner reads 1");
        }
        if (n < 1 || h < 1 || w < 1) {
            throw new RunnerFailure("input_invalid", name + " declares an empty set (" + n + "x" + h + "x" + w + ")");
        }
        // each factor and n*h bounded by the length (< 2^31) first, so the product cannot overflow
        boolean huge = n > data.length || h > data.length || w > data.length || n * h > data.length;
        long expected = huge ? Long.MAX_VALUE : HEADER + n * h * w;
        if (data.length != expected) {
            throw new RunnerFailure("input_invalid", name + " is " + data.length + " bytes, its header (" + n + "x" + h + "x" + w + ") says " + expected);
        }
        return new ImagesFile((int) n, (int) h, (int) w, data);
    }
}
