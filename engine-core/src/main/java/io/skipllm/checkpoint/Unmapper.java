package io.skipllm.checkpoint;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;

/**
 * Releases a file mapping as soon as its tensor has been copied. Java 17 has no public unmap: a
 * MappedByteBuffer otherwise stays mapped until the garbage collector finds it, so loading a large
 * checkpoint would keep tens of GB of address space (and the file handles) alive for no reason.
 * {@code sun.misc.Unsafe.invokeCleaner} (module jdk.unsupported, exported for exactly this use)
 * unmaps immediately; where it is unavailable the mapping is simply left to the GC.
 *
 * <p>Only ever called on a buffer this package mapped and no longer references: touching an unmapped
 * buffer would crash the JVM.
 */
final class Unmapper {

    private static final MethodHandle INVOKE_CLEANER = find();

    private Unmapper() {
    }

    static void unmap(MappedByteBuffer buffer) {
        if (INVOKE_CLEANER == null) {
            return;
        }
        try {
            INVOKE_CLEANER.invokeExact((ByteBuffer) buffer);
        } catch (Throwable ignored) {
            // best effort: the GC unmaps it later
        }
    }

    private static MethodHandle find() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field field = unsafeClass.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            Object unsafe = field.get(null);
            MethodHandle handle = MethodHandles.lookup().findVirtual(unsafeClass, "invokeCleaner",
                    MethodType.methodType(void.class, ByteBuffer.class));
            return handle.bindTo(unsafe);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
