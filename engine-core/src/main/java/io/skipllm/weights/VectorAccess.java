package io.skipllm.weights;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector loads from a weight buffer on every JDK. The Vector API read {@code ByteBuffer}s up to JDK 18
 * ({@code fromByteBuffer}) and reads {@code MemorySegment}s from JDK 19 on ({@code fromMemorySegment},
 * the buffer methods removed). Both are looked up once, here, as method handles, so that one class file
 * compiled for JDK 17 runs on 17, 21 and 25; a {@code static final} handle is a constant the JIT inlines
 * (and with it the segment over the buffer, which does not escape the load).
 */
final class VectorAccess {

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final MethodHandle BYTES = loader(ByteVector.class);
    private static final MethodHandle INTS = loader(IntVector.class);
    private static final MethodHandle FLOATS = loader(FloatVector.class);

    private VectorAccess() {
    }

    static ByteVector bytes(VectorSpecies<Byte> species, ByteBuffer data, int at) {
        try {
            return (ByteVector) BYTES.invokeExact(species, data, at, LE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static IntVector ints(VectorSpecies<Integer> species, ByteBuffer data, int at) {
        try {
            return (IntVector) INTS.invokeExact(species, data, at, LE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static FloatVector floats(VectorSpecies<Float> species, ByteBuffer data, int at) {
        try {
            return (FloatVector) FLOATS.invokeExact(species, data, at, LE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code (VectorSpecies, ByteBuffer, int, ByteOrder) -> vector} for this JDK's Vector API. */
    private static MethodHandle loader(Class<?> vectorType) {
        MethodType wanted = MethodType.methodType(vectorType, VectorSpecies.class, ByteBuffer.class, int.class,
                ByteOrder.class);
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        try {
            return lookup.findStatic(vectorType, "fromByteBuffer", wanted);
        } catch (NoSuchMethodException | IllegalAccessException beforeJdk19) {
            try {
                Class<?> segment = Class.forName("java.lang.foreign.MemorySegment");
                MethodHandle load = lookup.findStatic(vectorType, "fromMemorySegment",
                        MethodType.methodType(vectorType, VectorSpecies.class, segment, long.class, ByteOrder.class));
                MethodHandle ofBuffer = lookup.findStatic(segment, "ofBuffer",
                        MethodType.methodType(segment, java.nio.Buffer.class));
                return MethodHandles.filterArguments(load, 1, ofBuffer).asType(wanted);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(new IllegalStateException(
                        "this JDK's Vector API reads neither ByteBuffers nor MemorySegments", e));
            }
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
