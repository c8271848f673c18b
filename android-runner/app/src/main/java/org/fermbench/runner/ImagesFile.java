package org.fermbench.runner;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The classify input (little-endian): "FERB", uint32 version 2, N, C, H, W, then N*C*H*W uint8
 * ([N, C, H, W]); or version 1 (one channel): "FERB", 1, N, H, W, then N*H*W uint8.
 */
final class ImagesFile {
    static final int HEADER_V1 = 20;
    static final int HEADER_V2 = 24;
    final int count;
    final int channels;
    final int height;
    final int width;
    private final int offset; // where the pixels start: the header's size
    private final byte[] data;

    private ImagesFile(int count, int channels, int height, int width, int offset, byte[] data) {
        this.count = count;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.offset = offset;
        this.data = data;
    }

    /** Element j (channel j / (H*W), then row-major) of image i, 0..255. */
    int pixel(int image, int j) {
        return data[offset + image * channels * height * width + j] & 0xff;
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
        if (data.length < HEADER_V1) {
            throw new RunnerFailure("input_invalid", name + " is " + data.length + " bytes, shorter than its " + HEADER_V1 + "-byte header");
        }
        ByteBuffer header = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (data[0] != 'F' || data[1] != 'E' || data[2] != 'R' || data[3] != 'B') {
            throw new RunnerFailure("input_invalid", name + " does not start with FERB: write it with write_images_file");
        }
        long version = header.getInt(4) & 0xffffffffL;
        if (version != 1 && version != 2) {
            throw new RunnerFailure("input_invalid", name + " has format version " + version + ", runner reads 1 and 2");
        }
        int size = version == 1 ? HEADER_V1 : HEADER_V2;
        if (data.length < size) {
            throw new RunnerFailure("input_invalid", name + " is " + data.length + " bytes, shorter than its " + size + "-byte header");
        }
        long n = header.getInt(8) & 0xffffffffL;
        long c = version == 1 ? 1 : header.getInt(12) & 0xffffffffL;
        long h = header.getInt(size - 8) & 0xffffffffL;
        long w = header.getInt(size - 4) & 0xffffffffL;
        if (n < 1 || c < 1 || h < 1 || w < 1) {
            throw new RunnerFailure("input_invalid", name + " declares an empty set (" + n + "x" + c + "x" + h + "x" + w + ")");
        }
        // each factor and each partial product bounded by the length (< 2^31) first, so no product overflows
        boolean huge = n > data.length || c > data.length || h > data.length || w > data.length
                || n * c > data.length || n * c * h > data.length;
        long expected = huge ? Long.MAX_VALUE : size + n * c * h * w;
        if (data.length != expected) {
            throw new RunnerFailure("input_invalid", name + " is " + data.length + " bytes, its header (" + n + "x" + c + "x" + h + "x" + w + ") says " + expected);
        }
        return new ImagesFile((int) n, (int) c, (int) h, (int) w, size, data);
    }
}
